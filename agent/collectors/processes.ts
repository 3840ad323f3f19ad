import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { listKernelDir, readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

/**
 * The state letter and thread count of a /proc/<pid>/stat line. The command name (field 2) is in
 * parentheses and may itself contain spaces and ")", so fields are counted from the last ")".
 */
export function parsePidStat(text: string): { state: string; threads: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": state (field 3) … num_threads (field 20).
  const rest = text.slice(close + 2).split(' ', 18);
  const state = rest[0];
  const threads = Number(rest[17]);
  if (!state || !Number.isFinite(threads)) return undefined;
  return { state, threads };
}

export interface ProcessCensus {
  pids: number;
  threads: number;
  states: Map<string, number>;
}

/** Processes vanish between the directory listing and the read of their stat file; that is normal. */
function vanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/**
 * Reads /proc/<pid>/stat of every process, one file per process, with a few reads in flight at a
 * time so that a host with thousands of processes does not flood libuv's thread pool, which every
 * other collector of the agent shares.
 */
export async function takeProcessCensus(
  procRoot: string,
  concurrency: number,
  signal?: AbortSignal,
): Promise<ProcessCensus> {
  const pids = (await listKernelDir(procRoot)).filter((name) => {
    const c = name.charCodeAt(0);
    return c >= 48 && c <= 57;
  });
  const census: ProcessCensus = { pids: 0, threads: 0, states: new Map() };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pids.length) {
      signal?.throwIfAborted();
      const pid = pids[next++]!;
      let text: string;
      try {
        text = await readKernelFile(join(procRoot, pid, 'stat'));
      } catch (error) {
        if (vanished(error)) continue;
        throw new Error(`reading ${join(procRoot, pid, 'stat')}`, { cause: error });
      }
      const stat = parsePidStat(text);
      if (!stat) continue;
      census.pids++;
      census.threads += stat.threads;
      census.states.set(stat.state, (census.states.get(stat.state) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return census;
}

async function readNumber(path: string): Promise<number> {
  const value = Number((await readKernelFile(path)).trim());
  if (!Number.isFinite(value)) throw new Error(`${path}: not a number`);
  return value;
}

const Options = Type.Object({
  concurrency: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 2,
    description: 'How many /proc/<pid>/stat reads may be in flight at once.',
  }),
});
export type ProcessesOptions = Static<typeof Options>;

export const processes: CollectorDescriptor<ProcessesOptions> = {
  name: 'processes',
  description: 'Process and thread counts by state from /proc/<pid>/stat, and the pid and thread limits.',
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 10,
  options: Options,
  create(given) {
    const options = Value.Default(Options, { ...given }) as ProcessesOptions;
    return {
      async collect(ctx) {
        const [census, pidMax, threadsMax] = await Promise.all([
          takeProcessCensus(ctx.procRoot, options.concurrency, ctx.signal),
          readNumber(join(ctx.procRoot, 'sys/kernel/pid_max')),
          readNumber(join(ctx.procRoot, 'sys/kernel/threads-max')),
        ]);
        const r = ctx.registry;
        r.gauge('node_processes_threads', 'Allocated threads in system').value(census.threads);
        r.gauge('node_processes_max_threads', 'Limit of threads in the system').value(threadsMax);
        const state = r.gauge('node_processes_state', 'Number of processes in each state.');
        for (const [s, n] of [...census.states].sort()) state.set({ state: s }, n);
        r.gauge('node_processes_pids', 'Number of PIDs').value(census.pids);
        r.gauge('node_processes_max_processes', 'Number of max PIDs limit').value(pidMax);
      },
    };
  },
};
