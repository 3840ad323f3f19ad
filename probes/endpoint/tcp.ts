/** TCP connect probe (blackbox_exporter's tcp prober without the query/response dialogue). */
import { connect } from 'node:net';
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { errorCode, probeRegistry } from './common.js';

export const tcpConnect: ProbeDescriptor<{ target: string; timeoutSeconds?: number }> = {
  id: 'endpoint.tcp',
  category: 'endpoint',
  title: 'TCP 端口可连接',
  remediation:
    '检查服务进程是否运行、是否监听在正确的地址与端口，以及防火墙与安全组是否放行监控中心的来源地址。',
  options: Type.Object({
    target: Type.String({
      // Ports 0–65535 spelled out, so a port out of range is caught by check-config.
      pattern:
        '^([^\\s:]+|\\[[0-9a-fA-F:]+\\]):([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
      description: 'host:port with a port from 0 to 65535, e.g. credit.example.gov.cn:443',
    }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 120, default: 5 }),
  }),
  run({ options }) {
    const started = performance.now();
    const i = options.target.lastIndexOf(':');
    const host = options.target.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(options.target.slice(i + 1));
    const registry = probeRegistry();
    return new Promise<ProbeResult[]>((resolve) => {
      let done = false;
      const finish = (ok: boolean, summary: string, details: Record<string, unknown>) => {
        if (done) return;
        done = true;
        socket.destroy();
        const seconds = (performance.now() - started) / 1000;
        registry.gauge('probe_success', 'Displays whether or not the probe was a success').value(ok ? 1 : 0);
        registry
          .gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds')
          .value(seconds);
        resolve([
          {
            status: ok ? 'OK' : 'CRIT',
            target: options.target,
            summary,
            details: { ...details, seconds },
            metrics: registry.collect(),
          },
        ]);
      };
      const socket = connect({ host, port, timeout: (options.timeoutSeconds ?? 5) * 1000 });
      socket.once('connect', () =>
        finish(true, `${options.target} 可以连接`, { address: socket.remoteAddress }),
      );
      socket.once('timeout', () => finish(false, `${options.target} 连接超时`, { reason: 'timeout' }));
      socket.once('error', (error) =>
        finish(false, `${options.target} 无法连接：${errorCode(error)}`, {
          reason: 'unreachable',
          error: errorCode(error),
        }),
      );
    });
  },
};
