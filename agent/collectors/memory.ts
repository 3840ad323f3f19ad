import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

export interface MeminfoField {
  /** The node_exporter metric suffix: "MemTotal_bytes", "Active_anon_bytes", "HugePages_Total". */
  name: string;
  value: number;
}

/**
 * /proc/meminfo, named the way node_exporter names it: "Active(anon)" becomes "Active_anon", a
 * value in kB is converted to bytes and gets the "_bytes" suffix, and a bare count (HugePages_Total,
 * HugePages_Free, …) keeps its name and value.
 */
export function parseMeminfo(text: string): MeminfoField[] {
  const out: MeminfoField[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let key = line.slice(0, colon);
    const paren = key.indexOf('(');
    if (paren >= 0) key = `${key.slice(0, paren)}_${key.slice(paren + 1, key.indexOf(')', paren))}`;
    const rest = line.slice(colon + 1).trim();
    const space = rest.indexOf(' ');
    const value = Number(space < 0 ? rest : rest.slice(0, space));
    if (rest === '' || !Number.isFinite(value)) continue;
    if (space >= 0 && rest.slice(space + 1) === 'kB') out.push({ name: `${key}_bytes`, value: value * 1024 });
    else out.push({ name: key, value });
  }
  return out;
}

export const memory: CollectorDescriptor<Record<string, never>> = {
  name: 'memory',
  description: 'Memory statistics from /proc/meminfo (node_memory_*).',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Type.Object({}),
  create() {
    return {
      async collect(ctx) {
        const text = await readKernelFile(join(ctx.procRoot, 'meminfo'));
        for (const field of parseMeminfo(text)) {
          const name = `node_memory_${field.name}`;
          const help = `Memory information field ${field.name}.`;
          // node_exporter's rule: a field ending in "_total" is a counter (none does today).
          const family = field.name.endsWith('_total')
            ? ctx.registry.counter(name, help)
            : ctx.registry.gauge(name, help);
          family.value(field.value);
        }
      },
    };
  },
};
