/** What the benchmarks read about a measured process from /proc, and how they summarise rounds. */
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from '../lib/process-stats.js';

const TICKS_PER_SECOND = 100;

function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (text) children.push(...text.split(' ').map(Number));
  }
  return children;
}

/** CPU time of a process and its living descendants (the agent's statfs helper counts too). */
export function cpuSeconds(pid: number): number {
  const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  let total = (stat.utimeTicks + stat.stimeTicks) / TICKS_PER_SECOND;
  for (const child of childPids(pid)) total += cpuSeconds(child);
  return total;
}

export function peakRssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
