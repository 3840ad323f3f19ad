import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

/** Seconds since boot: the first number of /proc/uptime. */
export function parseUptime(text: string): number {
  const value = Number(text.slice(0, text.indexOf(' ')));
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`unexpected content in uptime: ${JSON.stringify(text.slice(0, 80))}`);
  return value;
}

export const time: CollectorDescriptor<Record<string, never>> = {
  name: 'time',
  description: 'The system clock (node_time_seconds) and the time since boot from /proc/uptime.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Type.Object({}),
  create() {
    return {
      async collect(ctx) {
        ctx.registry
          .gauge('node_time_seconds', 'System time in seconds since epoch (1970).')
          .value(ctx.now() / 1000);
        const uptime = parseUptime(await readKernelFile(join(ctx.procRoot, 'uptime')));
        ctx.registry
          .gauge(
            'creditops_host_uptime_seconds',
            'Seconds since the host booted, from /proc/uptime (excludes time suspended).',
          )
          .value(uptime);
      },
    };
  },
};
