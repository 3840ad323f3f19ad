import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

export interface KernelStat {
  interrupts?: number;
  contextSwitches?: number;
  bootTime?: number;
  forks?: number;
  procsRunning?: number;
  procsBlocked?: number;
}

/** The system-wide lines of /proc/stat (everything but the per-CPU times). */
export function parseKernelStat(text: string): KernelStat {
  const out: KernelStat = {};
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // Only the first number matters on each line; the "intr" line has one column per interrupt
    // (thousands on big machines), so it is never split whole.
    const space = text.indexOf(' ', start);
    if (space > start && space < end) {
      const key = text.slice(start, space);
      if (!key.startsWith('cpu')) {
        const next = text.indexOf(' ', space + 1);
        const value = Number(text.slice(space + 1, next > 0 && next < end ? next : end));
        switch (key) {
          case 'intr':
            out.interrupts = value;
            break;
          case 'ctxt':
            out.contextSwitches = value;
            break;
          case 'btime':
            out.bootTime = value;
            break;
          case 'processes':
            out.forks = value;
            break;
          case 'procs_running':
            out.procsRunning = value;
            break;
          case 'procs_blocked':
            out.procsBlocked = value;
            break;
        }
      }
    }
    start = end + 1;
  }
  return out;
}

export const stat: CollectorDescriptor<Record<string, never>> = {
  name: 'stat',
  description:
    'Kernel activity from /proc/stat: interrupts, context switches, forks, boot time, runnable and blocked processes.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Type.Object({}),
  create() {
    return {
      async collect(ctx) {
        const s = parseKernelStat(await readKernelFile(join(ctx.procRoot, 'stat')));
        const r = ctx.registry;
        if (s.interrupts !== undefined)
          r.counter('node_intr_total', 'Total number of interrupts serviced.').value(s.interrupts);
        if (s.contextSwitches !== undefined) {
          r.counter('node_context_switches_total', 'Total number of context switches.').value(
            s.contextSwitches,
          );
        }
        if (s.forks !== undefined) r.counter('node_forks_total', 'Total number of forks.').value(s.forks);
        if (s.bootTime !== undefined)
          r.gauge('node_boot_time_seconds', 'Node boot time, in unixtime.').value(s.bootTime);
        if (s.procsRunning !== undefined) {
          r.gauge('node_procs_running', 'Number of processes in runnable state.').value(s.procsRunning);
        }
        if (s.procsBlocked !== undefined) {
          r.gauge('node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.').value(
            s.procsBlocked,
          );
        }
      },
    };
  },
};
