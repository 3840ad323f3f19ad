/** The standard process_* metrics of a Prometheus client, read from /proc/self. */
import { readdir, readFile } from 'node:fs/promises';
import type { MetricRegistry } from './metrics.js';

const CLOCK_TICKS = 100;
const PAGE_SIZE = 4096;

let bootTimeSeconds: number | undefined;

async function readBootTime(procRoot: string): Promise<number> {
  if (bootTimeSeconds !== undefined) return bootTimeSeconds;
  const stat = await readFile(`${procRoot}/stat`, 'utf8');
  const line = stat.split('\n').find((l) => l.startsWith('btime '));
  bootTimeSeconds = line ? Number(line.slice(6)) : 0;
  return bootTimeSeconds;
}

export async function writeProcessMetrics(registry: MetricRegistry, procRoot = '/proc'): Promise<void> {
  const [stat, fds, limits] = await Promise.all([
    readFile(`${procRoot}/self/stat`, 'utf8'),
    readdir(`${procRoot}/self/fd`).catch(() => undefined),
    readFile(`${procRoot}/self/limits`, 'utf8').catch(() => undefined),
  ]);
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTicks = Number(fields[19]);
  const vsize = Number(fields[20]);
  const rss = Number(fields[21]);
  registry.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.').value((utime + stime) / CLOCK_TICKS);
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.').value(rss * PAGE_SIZE);
  registry.gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.').value(vsize);
  registry
    .gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.')
    .value((await readBootTime(procRoot)) + startTicks / CLOCK_TICKS);
  if (fds) registry.gauge('process_open_fds', 'Number of open file descriptors.').value(fds.length);
  const maxFds = limits?.split('\n').find((l) => l.startsWith('Max open files'))?.split(/\s+/)[3];
  if (maxFds && maxFds !== 'unlimited') {
    registry.gauge('process_max_fds', 'Maximum number of open file descriptors.').value(Number(maxFds));
  }
}
