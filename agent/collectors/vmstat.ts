import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DeviceFilter } from './device-filter.js';
import { readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

/** node_exporter's default --collector.vmstat.fields. */
export const DEFAULT_VMSTAT_FIELDS = '^(oom_kill|pgpg|pswp|pg.*fault).*';

/** "name value" lines of /proc/vmstat. */
export function parseVmstat(text: string): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) out.push({ name: line.slice(0, space), value });
  }
  return out;
}

const Options = Type.Object({
  fields: Type.String({
    default: DEFAULT_VMSTAT_FIELDS,
    description: 'Regular expression of the /proc/vmstat fields to export.',
  }),
});
export type VmstatOptions = Static<typeof Options>;

export const vmstat: CollectorDescriptor<VmstatOptions> = {
  name: 'vmstat',
  description:
    'Virtual memory statistics from /proc/vmstat (node_vmstat_*), e.g. major page faults and OOM kills.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Options,
  create(given) {
    const options = Value.Default(Options, { ...given }) as VmstatOptions;
    const filter = new DeviceFilter('', options.fields, { exclude: '', include: 'collectors.vmstat.fields' });
    return {
      async collect(ctx) {
        for (const { name, value } of parseVmstat(await readKernelFile(join(ctx.procRoot, 'vmstat')))) {
          if (filter.ignored(name)) continue;
          // node_exporter types them all untyped: some are counters, some (nr_*) are gauges.
          ctx.registry.untyped(`node_vmstat_${name}`, `/proc/vmstat information field ${name}.`).value(value);
        }
      },
    };
  },
};
