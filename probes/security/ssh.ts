/**
 * sshd settings (GB/T 22239-2019 8.1.4.1 b, c): no root login, a password policy, idle sessions
 * ended, protocol 2 only. One result per setting so each finding can be fixed and closed alone.
 */
import { Type } from '@sinclair/typebox';
import { listOptional, readOptional } from '../host.js';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { parseSshdConfig, sshdIncludes } from './parse.js';

async function effectiveConfig(host: Parameters<ProbeDescriptor['run']>[0]['host']) {
  const main = await readOptional(host, '/etc/ssh/sshd_config');
  if (main === undefined) return undefined;
  const values = new Map<string, string>();
  const files = ['/etc/ssh/sshd_config'];
  // Include comes first in Debian's sshd_config, so drop-ins win (first value wins).
  for (const pattern of sshdIncludes(main)) {
    const slash = pattern.lastIndexOf('/');
    const dir = pattern.slice(0, slash);
    const glob = new RegExp(
      `^${pattern
        .slice(slash + 1)
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    for (const name of await listOptional(host, dir)) {
      if (!glob.test(name)) continue;
      const text = await readOptional(host, `${dir}/${name}`);
      if (text === undefined) continue;
      files.push(`${dir}/${name}`);
      parseSshdConfig(text, values);
    }
  }
  parseSshdConfig(main, values);
  return { values, files };
}

export const sshdSettings: ProbeDescriptor<{
  allowPasswordAuthentication: boolean;
  maxClientAliveSeconds: number;
}> = {
  id: 'security.ssh.config',
  category: 'security',
  title: 'SSH 服务安全配置',
  remediation:
    '在 /etc/ssh/sshd_config 中设置 PermitRootLogin no、PasswordAuthentication no（使用密钥登录）、ClientAliveInterval 300、ClientAliveCountMax 0–3，删除 Protocol 1，然后 systemctl reload sshd。',
  clause: 'GB/T 22239-2019 8.1.4.1 b) c)',
  crossRef: ['Lynis SSH-7408', 'CIS 5.2'],
  options: Type.Object({
    allowPasswordAuthentication: Type.Boolean({ default: false }),
    maxClientAliveSeconds: Type.Integer({ minimum: 1, default: 900 }),
  }),
  async run({ host, options }) {
    const config = await effectiveConfig(host);
    if (!config) return [{ status: 'OK', summary: '未安装 SSH 服务（无 /etc/ssh/sshd_config）' }];
    const v = (k: string) => config.values.get(k.toLowerCase());
    const evidence = (key: string) => ({ key, value: v(key) ?? null, files: config.files });
    const results: ProbeResult[] = [];
    const root = (v('PermitRootLogin') ?? 'prohibit-password').toLowerCase();
    results.push(
      root === 'no'
        ? {
            status: 'OK',
            target: 'PermitRootLogin',
            summary: 'SSH 禁止 root 直接登录',
            details: evidence('PermitRootLogin'),
          }
        : {
            status: root === 'yes' ? 'CRIT' : 'WARN',
            target: 'PermitRootLogin',
            summary: `SSH 允许 root 登录（PermitRootLogin ${root}${v('PermitRootLogin') ? '' : '，默认值'}）`,
            details: evidence('PermitRootLogin'),
          },
    );
    const password = (v('PasswordAuthentication') ?? 'yes').toLowerCase();
    results.push(
      password === 'no' || options.allowPasswordAuthentication
        ? {
            status: 'OK',
            target: 'PasswordAuthentication',
            summary: `SSH 口令认证：${password}（符合策略）`,
            details: evidence('PasswordAuthentication'),
          }
        : {
            status: 'WARN',
            target: 'PasswordAuthentication',
            summary: `SSH 允许口令认证（PasswordAuthentication ${password}），应仅允许密钥登录`,
            details: evidence('PasswordAuthentication'),
          },
    );
    const interval = Number(v('ClientAliveInterval') ?? 0);
    const count = Number(v('ClientAliveCountMax') ?? 3);
    const idle = interval * Math.max(count, 1);
    results.push(
      interval > 0 && idle <= (options.maxClientAliveSeconds ?? 900)
        ? {
            status: 'OK',
            target: 'ClientAlive',
            summary: `SSH 空闲连接约 ${idle} 秒后断开`,
            details: { interval, count, files: config.files },
          }
        : {
            status: 'WARN',
            target: 'ClientAlive',
            summary:
              interval > 0
                ? `SSH 空闲连接 ${idle} 秒后才断开，过长`
                : 'SSH 未设置 ClientAliveInterval，空闲连接不会断开',
            details: { interval, count, files: config.files },
          },
    );
    const protocol = v('Protocol');
    results.push(
      protocol?.split(',').includes('1')
        ? {
            status: 'CRIT',
            target: 'Protocol',
            summary: `SSH 允许不安全的协议版本 1（Protocol ${protocol}）`,
            details: evidence('Protocol'),
          }
        : {
            status: 'OK',
            target: 'Protocol',
            summary: '仅使用 SSH 协议版本 2',
            details: evidence('Protocol'),
          },
    );
    return results;
  },
};
