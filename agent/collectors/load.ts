import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

/** The 1, 5 and 15 minute load averages of /proc/loadavg. */
export function parseLoadavg(text: string): [number, number, number] {
  const parts = text.trim().split(' ');
  const loads = [Number(parts[0]), Number(parts[1]), Number(parts[2])] as [number, number, number];
  if (parts.length < 3 || loads.some((l) => !Number.isFinite(l))) {
    throw new Error(`unexpected content in loadavg: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return loads;
}

export const load: CollectorDescriptor<Record<string, never>> = {
  name: 'load',
  description: 'Load averages from /proc/loadavg (node_load1, node_load5, node_load15).',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Type.Object({}),
  create() {
    return {
      async collect(ctx) {
        const [l1, l5, l15] = parseLoadavg(await readKernelFile(join(ctx.procRoot, 'loadavg')));
        ctx.registry.gauge('node_load1', '1m load average.').value(l1);
        ctx.registry.gauge('node_load5', '5m load average.').value(l5);
        ctx.registry.gauge('node_load15', '15m load average.').value(l15);
      },
    };
  },
};
