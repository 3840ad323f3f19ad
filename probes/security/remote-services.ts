/**
 * Remote management over SSH only: no telnet, rlogin/rsh/rexec or FTP servers (GB/T 22239-2019
 * 8.1.4.1 c: management traffic must not travel in clear text). Looks at running processes and
 * at the ports those services listen on, so an inetd-started one is found too.
 */
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { listListeners, listProcesses } from './system.js';

const SERVERS: Record<string, RegExp> = {
  telnet: /^(in\.)?telnetd$/,
  rlogin: /^(in\.)?(rlogind|rshd|rexecd)$/,
  ftp: /^(vsftpd|proftpd|pure-ftpd|in\.ftpd|ftpd)$/,
  tftp: /^(in\.)?tftpd$/,
};
const PORTS: Record<number, string> = {
  21: 'ftp',
  23: 'telnet',
  69: 'tftp',
  512: 'rexec',
  513: 'rlogin',
  514: 'rsh',
};

export const insecureRemoteServices: ProbeDescriptor = {
  id: 'security.services.insecure_remote',
  category: 'security',
  title: '未运行 telnet、rlogin、ftp 等明文远程服务',
  remediation:
    '停用并卸载 telnet、rsh/rlogin、ftp 服务（systemctl disable --now <服务>；apt-get purge / dnf remove），远程管理统一使用 SSH，文件传输使用 SFTP。',
  clause: 'GB/T 22239-2019 8.1.4.1 c)',
  crossRef: ['Lynis INSE-8016', 'CIS 2.1'],
  options: Type.Object({}),
  async run({ host }) {
    const processes = await listProcesses(host);
    const { listeners } = await listListeners(host);
    const results: ProbeResult[] = [];
    for (const [service, re] of Object.entries(SERVERS)) {
      const running = processes.filter((p) => re.test(p.comm));
      if (running.length > 0) {
        results.push({
          status: 'CRIT',
          target: service,
          summary: `${service} 服务正在运行（${running.map((p) => `${p.comm}[${p.pid}]`).join('、')}），以明文传输口令`,
          details: { processes: running },
        });
      }
    }
    for (const l of listeners.filter((x) => PORTS[x.port] && (x.protocol === 'tcp' || x.port === 69))) {
      const service = PORTS[l.port]!;
      if (results.some((r) => r.target === service)) continue;
      results.push({
        status: 'CRIT',
        target: service,
        summary: `${service} 端口 ${l.protocol}/${l.port} 正在监听（${l.address}）`,
        details: { listener: l },
      });
    }
    if (results.length > 0) return results;
    return [
      {
        status: 'OK',
        summary: `未发现 telnet、rlogin、ftp 服务（检查了 ${processes.length} 个进程和监听端口）`,
        details: { processes: processes.length },
      },
    ];
  },
};
