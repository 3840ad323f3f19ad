/**
 * Audit (GB/T 22239-2019 8.1.4.3): auditd running, its logs readable by root only, and logs kept
 * at least six months (Cybersecurity Law art. 21).
 */
import { Type } from '@sinclair/typebox';
import { isMissing, listOptional, readOptional } from '../host.js';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { parseKeyValues } from './parse.js';
import { listProcesses } from './system.js';

export const auditd: ProbeDescriptor = {
  id: 'security.audit.auditd',
  category: 'security',
  title: '审计服务 auditd 运行且审计日志仅 root 可读写',
  remediation:
    '安装并启用 auditd（apt-get install auditd / dnf install audit；systemctl enable --now auditd），并在 /etc/audit/auditd.conf 中设置 log_group = root，使审计日志权限为 0600。',
  clause: 'GB/T 22239-2019 8.1.4.3 a) c)',
  crossRef: ['Lynis ACCT-9628', 'CIS 4.1.1'],
  options: Type.Object({}),
  async run({ host }) {
    const processes = await listProcesses(host);
    const running = processes.find((p) => p.comm === 'auditd');
    const results: ProbeResult[] = [];
    results.push(
      running
        ? {
            status: 'OK',
            target: 'auditd',
            summary: `auditd 正在运行（pid ${running.pid}）`,
            details: { pid: running.pid },
          }
        : {
            status: 'CRIT',
            target: 'auditd',
            summary: 'auditd 未运行，系统操作没有审计记录',
            details: { processes: processes.length },
          },
    );
    const conf = parseKeyValues((await readOptional(host, '/etc/audit/auditd.conf')) ?? '');
    const logFile = conf.get('log_file') ?? '/var/log/audit/audit.log';
    try {
      const s = await host.stat(logFile);
      const mode = s.mode & 0o777;
      results.push(
        (mode & 0o077) === 0
          ? {
              status: 'OK',
              target: 'log_mode',
              summary: `审计日志 ${logFile} 权限为 ${mode.toString(8).padStart(4, '0')}`,
              details: { file: logFile, mode: mode.toString(8) },
            }
          : {
              status: 'WARN',
              target: 'log_mode',
              summary: `审计日志 ${logFile} 权限为 ${mode.toString(8).padStart(4, '0')}，其他用户可读（应为 0600）`,
              details: { file: logFile, mode: mode.toString(8) },
            },
      );
    } catch (error) {
      if (!isMissing(error)) throw error;
      if (running)
        results.push({
          status: 'WARN',
          target: 'log_mode',
          summary: `审计日志 ${logFile} 不存在`,
          details: { file: logFile },
        });
    }
    return results;
  },
};

const PERIOD_DAYS: Record<string, number> = { daily: 1, weekly: 7, monthly: 30, yearly: 365 };

/** Days of history a logrotate stanza keeps: rotate count × period (maxage caps it). */
export function logrotateDays(text: string): number | undefined {
  let period = 7;
  let rotate: number | undefined;
  let maxage: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (PERIOD_DAYS[line] !== undefined) period = PERIOD_DAYS[line]!;
    const r = /^rotate\s+(\d+)/.exec(line);
    if (r) rotate = Number(r[1]);
    const m = /^maxage\s+(\d+)/.exec(line);
    if (m) maxage = Number(m[1]);
  }
  if (rotate === undefined) return undefined;
  const days = (rotate + 1) * period;
  return maxage === undefined ? days : Math.min(days, maxage);
}

export const logRetention: ProbeDescriptor<{ minDays: number }> = {
  id: 'security.audit.retention',
  category: 'security',
  title: '日志至少保存 6 个月',
  remediation:
    '在 /etc/logrotate.conf（及 /etc/logrotate.d/rsyslog）中设置 weekly + rotate 26 或 monthly + rotate 6 以上；auditd.conf 中设置 max_log_file_action = keep_logs 或足够的 num_logs；并将日志转发到日志服务器集中保存。',
  clause: 'GB/T 22239-2019 8.1.4.3 c)；《网络安全法》第二十一条',
  crossRef: ['Lynis LOGG-2190', 'CIS 4.3'],
  options: Type.Object({ minDays: Type.Integer({ minimum: 1, default: 180 }) }),
  async run({ host, options }) {
    const minDays = options.minDays ?? 180;
    const results: ProbeResult[] = [];
    const main = await readOptional(host, '/etc/logrotate.conf');
    const rsyslog = await readOptional(host, '/etc/logrotate.d/rsyslog');
    const days = logrotateDays(`${main ?? ''}\n${rsyslog ?? ''}`);
    if (main === undefined && rsyslog === undefined) {
      results.push({
        status: 'WARN',
        target: 'logrotate',
        summary: '未找到 logrotate 配置，无法确认系统日志保存期限',
      });
    } else {
      results.push(
        days !== undefined && days >= minDays
          ? {
              status: 'OK',
              target: 'logrotate',
              summary: `系统日志保留约 ${days} 天`,
              details: { days, minDays },
            }
          : {
              status: 'WARN',
              target: 'logrotate',
              summary: `系统日志仅保留约 ${days ?? '未知'} 天，少于 ${minDays} 天`,
              details: { days: days ?? null, minDays },
            },
      );
    }
    const auditConf = await readOptional(host, '/etc/audit/auditd.conf');
    if (auditConf !== undefined) {
      const conf = parseKeyValues(auditConf);
      const action = (conf.get('max_log_file_action') ?? 'rotate').toLowerCase();
      const numLogs = Number(conf.get('num_logs') ?? 5);
      const sizeMb = Number(conf.get('max_log_file') ?? 8);
      results.push(
        action === 'keep_logs'
          ? {
              status: 'OK',
              target: 'auditd',
              summary: '审计日志写满后保留旧文件（keep_logs）',
              details: { action },
            }
          : {
              status: 'WARN',
              target: 'auditd',
              summary: `审计日志按大小轮转（${action}，${numLogs} 个 × ${sizeMb} MB），可能不足 6 个月`,
              details: { action, numLogs, sizeMb },
            },
      );
    }
    const remote =
      (await listOptional(host, '/etc/rsyslog.d')).length > 0 ||
      /@@?[\w.-]+/.test((await readOptional(host, '/etc/rsyslog.conf')) ?? '');
    return results.map((r) => ({ ...r, details: { ...r.details, remoteForwardingHint: remote } }));
  },
};
