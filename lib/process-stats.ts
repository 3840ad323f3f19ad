/**
 * The collector's own process metrics, read from /proc/self the way client_golang's process
 * collector does, so dashboards built for any Prometheus client work unchanged.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ProcessStats {
  cpuSeconds: number;
  residentBytes: number;
  virtualBytes: number | null;
  startTimeSeconds: number;
  openFds: number | null;
  maxFds: number | null;
}

/** USER_HZ: the unit of /proc times. Fixed at 100 by the kernel ABI on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  utimeTicks: number;
  stimeTicks: number;
  startTimeTicks: number;
  virtualBytes: number;
  rssPages: number;
}

/** Parses /proc/<pid>/stat. The command name (field 2) may contain spaces and parentheses. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('unexpected /proc/self/stat format: no ")" after the command name');
  // Fields after the command name, starting at field 3 (state).
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => {
    const v = Number(f[n - 3]);
    if (!Number.isFinite(v))
      throw new Error(`unexpected /proc/self/stat format: field ${n} is "${f[n - 3]}"`);
    return v;
  };
  return {
    utimeTicks: field(14),
    stimeTicks: field(15),
    startTimeTicks: field(22),
    virtualBytes: field(23),
    rssPages: field(24),
  };
}

/** The boot time (seconds since the epoch) from /proc/stat. */
export function parseBootTime(text: string): number {
  const m = /^btime\s+(\d+)$/m.exec(text);
  if (!m) throw new Error('no btime line in /proc/stat');
  return Number(m[1]);
}

/** VmRSS from /proc/<pid>/status, in bytes (exact where page size is not 4 KiB). */
export function parseStatusRss(text: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** The soft limit of open files from /proc/<pid>/limits; null when unlimited. */
export function parseMaxFds(text: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/** Reads the stats of the process whose /proc directory is `${procRoot}/self`. */
export async function readProcessStats(procRoot = '/proc'): Promise<ProcessStats> {
  const self = join(procRoot, 'self');
  const [statText, bootText, statusText, limitsText, fds] = await Promise.all([
    readFile(join(self, 'stat'), 'utf8'),
    readFile(join(procRoot, 'stat'), 'utf8'),
    readFile(join(self, 'status'), 'utf8'),
    readFile(join(self, 'limits'), 'utf8').catch(() => ''),
    readdir(join(self, 'fd')).catch(() => null),
  ]);
  const stat = parseProcStat(statText);
  return {
    cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / TICKS_PER_SECOND,
    residentBytes: parseStatusRss(statusText) ?? stat.rssPages * 4096,
    virtualBytes: stat.virtualBytes,
    startTimeSeconds: parseBootTime(bootText) + stat.startTimeTicks / TICKS_PER_SECOND,
    openFds: fds === null ? null : fds.length,
    maxFds: parseMaxFds(limitsText),
  };
}

/** Where /proc is missing (macOS during development): the same numbers from Node. */
export function nodeProcessStats(nowMs: number): ProcessStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    residentBytes: mem.rss,
    virtualBytes: null,
    startTimeSeconds: Math.round(nowMs / 1000 - process.uptime()),
    openFds: null,
    maxFds: null,
  };
}
