/**
 * Listening ports against an allow-list and the high-risk list (GB/T 22239-2019 8.1.4.4 b):
 * read from /proc/net, so neither ss nor netstat is needed and a fixture tree can stand in.
 */
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { isLoopback } from './parse.js';
import { listListeners } from './system.js';

/** DOMAIN.md §5: ports a government host should not expose. */
export const HIGH_RISK_PORTS: ReadonlySet<number> = new Set([
  21, 23, 69, 111, 135, 136, 137, 138, 139, 445, 512, 513, 514, 515, 873, 2049, 3389, 5900, 6379, 11211,
  27017,
]);

export const listeningPorts: ProbeDescriptor<{ allowedPorts: number[]; ignoreLoopback: boolean }> = {
  id: 'security.network.listening_ports',
  category: 'security',
  title: '监听端口符合白名单，无高危端口',
  remediation:
    '关闭不需要的服务（systemctl disable --now <服务>），或在防火墙上限制来源；确需开放的端口加入 probes 配置的 allowedPorts 白名单并登记审批。',
  clause: 'GB/T 22239-2019 8.1.4.4 b)',
  crossRef: ['Lynis NETW-3012', 'CIS 2.2'],
  options: Type.Object({
    /** Ports that may listen on a non-loopback address. @defaultValue [22] */
    allowedPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { default: [22] }),
    /** Sockets bound to 127.0.0.1 or ::1 are not reachable from the network. @defaultValue true */
    ignoreLoopback: Type.Boolean({ default: true }),
  }),
  async run({ host, options }) {
    const allowed = new Set(options.allowedPorts ?? [22]);
    const { listeners, read } = await listListeners(host);
    if (read.length === 0)
      return [{ status: 'UNKNOWN', summary: '无法读取 /proc/net/tcp，未能检查监听端口' }];
    const exposed = listeners.filter((l) => !(options.ignoreLoopback ?? true) || !isLoopback(l.address));
    const byPort = new Map<string, string[]>();
    for (const l of exposed) {
      const key = `${l.protocol}/${l.port}`;
      byPort.set(key, [...new Set([...(byPort.get(key) ?? []), l.address])]);
    }
    const results: ProbeResult[] = [];
    for (const [key, addresses] of [...byPort].sort()) {
      const port = Number(key.split('/')[1]);
      if (HIGH_RISK_PORTS.has(port)) {
        results.push({
          status: 'CRIT',
          target: key,
          summary: `高危端口 ${key} 正在监听（${addresses.join('、')}）`,
          details: { port, addresses, highRisk: true },
        });
      } else if (!allowed.has(port)) {
        results.push({
          status: 'WARN',
          target: key,
          summary: `端口 ${key} 不在白名单中，正在监听（${addresses.join('、')}）`,
          details: { port, addresses, allowed: [...allowed] },
        });
      }
    }
    if (results.length === 0) {
      return [
        {
          status: 'OK',
          summary: `对外监听的端口均在白名单内：${[...byPort.keys()].join('、') || '无'}`,
          details: { listening: [...byPort.keys()], loopbackOnly: listeners.length - exposed.length, read },
        },
      ];
    }
    return results;
  },
};
