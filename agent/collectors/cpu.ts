import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

/**
 * Clock ticks per second of the times in /proc/stat. The kernel always reports them in USER_HZ,
 * which is 100 on every architecture Linux supports today, whatever CONFIG_HZ is.
 */
export const USER_HZ = 100;

/** The per-CPU modes of /proc/stat, in the order the kernel prints them. */
const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export interface CpuTimes {
  cpu: string;
  /** Seconds per mode, in the order of MODES. */
  seconds: number[];
  /** Seconds spent running guests (already counted in user), and niced guests (counted in nice). */
  guest: number;
  guestNice: number;
}

/** The per-CPU lines ("cpu0 …") of /proc/stat; the aggregate "cpu" line is skipped. */
export function parseCpuTimes(text: string): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of text.split('\n')) {
    // Per-CPU lines come first; stop at the first line that is not about a CPU.
    if (!line.startsWith('cpu')) {
      if (out.length > 0) break;
      continue;
    }
    const fields = line.split(' ');
    const name = fields[0]!;
    if (name === 'cpu') continue;
    const seconds: number[] = [];
    for (let i = 0; i < MODES.length; i++) seconds.push(tick(fields[i + 1]));
    out.push({ cpu: name.slice(3), seconds, guest: tick(fields[9]), guestNice: tick(fields[10]) });
  }
  return out;
}

/** Missing trailing columns (old kernels print fewer) count as zero. */
function tick(field: string | undefined): number {
  if (field === undefined) return 0;
  const n = Number(field);
  return Number.isFinite(n) ? n / USER_HZ : 0;
}

const Options = Type.Object({
  guest: Type.Boolean({ default: true, description: 'Export node_cpu_guest_seconds_total.' }),
});
export type CpuOptions = Static<typeof Options>;

export const cpu: CollectorDescriptor<CpuOptions> = {
  name: 'cpu',
  description: 'CPU time per CPU and mode from /proc/stat (node_cpu_seconds_total).',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Options,
  create(given) {
    const options = Value.Default(Options, { ...given }) as CpuOptions;
    return {
      async collect(ctx) {
        const text = await readKernelFile(join(ctx.procRoot, 'stat'));
        const seconds = ctx.registry.counter(
          'node_cpu_seconds_total',
          'Seconds the CPUs spent in each mode.',
        );
        const guest = options.guest
          ? ctx.registry.counter(
              'node_cpu_guest_seconds_total',
              'Seconds the CPUs spent in guests (VMs) for each mode.',
            )
          : undefined;
        // A counter that went backwards (CPU hot-plug) is reported as read: Prometheus treats a
        // decrease as a reset, and holding the old value would hide the new CPU's real time.
        for (const times of parseCpuTimes(text)) {
          for (let i = 0; i < MODES.length; i++)
            seconds.set({ cpu: times.cpu, mode: MODES[i]! }, times.seconds[i]!);
          guest?.set({ cpu: times.cpu, mode: 'user' }, times.guest);
          guest?.set({ cpu: times.cpu, mode: 'nice' }, times.guestNice);
        }
      },
    };
  },
};
