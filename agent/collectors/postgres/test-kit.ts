/**
 * What the PostgreSQL and backup collector tests share: a collect context whose log is captured,
 * and look-ups into the families a run produced.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { type Labels, type MetricFamily, MetricRegistry } from '../../../lib/metrics.js';
import type { Collector, Verdict } from '../types.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function capturedLog(): { log: pino.Logger; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines, text: () => text };
}

export interface RunResult {
  families: MetricFamily[];
  verdicts: Verdict[];
}

/** One collect() with a fresh registry, as the runner would do it. */
export async function collectOnce(
  collector: Collector,
  log: pino.Logger,
  options: { now?: () => number; rootfs?: string } = {},
): Promise<RunResult> {
  const registry = new MetricRegistry();
  const verdicts: Verdict[] = [];
  await collector.collect({
    procRoot: '/proc',
    sysRoot: '/sys',
    rootfs: options.rootfs ?? '/',
    registry,
    signal: new AbortController().signal,
    now: options.now ?? Date.now,
    log,
    report: (v) => verdicts.push(v),
  });
  return { families: registry.collect(), verdicts };
}

function matches(labels: Labels, want: Labels): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/** Samples of a family whose labels include `want`. */
export function samples(
  result: RunResult,
  name: string,
  want: Labels = {},
): { labels: Labels; value: number }[] {
  const family = result.families.find((f) => f.name === name);
  return (family?.samples ?? []).filter((s) => matches(s.labels, want));
}

/** The one value of a family with these labels; throws when absent or ambiguous. */
export function value(result: RunResult, name: string, want: Labels = {}): number {
  const found = samples(result, name, want);
  if (found.length !== 1) {
    throw new Error(
      `${name}${JSON.stringify(want)}: ${found.length} samples (${JSON.stringify(found.slice(0, 3))})`,
    );
  }
  return found[0]!.value;
}

export function verdictOf(result: RunResult, check: string, target?: string): Verdict | undefined {
  return result.verdicts.find((v) => v.check === check && (target === undefined || v.target === target));
}
