import { pino } from 'pino';
import { formatExposition } from '../../lib/exposition.js';
import { type MetricFamily, MetricRegistry } from '../../lib/metrics.js';
import type { Collector, HostRoots, Verdict } from './types.js';

export interface RunOnceOptions {
  /** Milliseconds since the epoch; fixed in tests so golden files do not change. */
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * Runs a collector once against the given roots and returns what it wrote, as families and as
 * exposition text, and the verdicts it reported: for fixture tests and for looking at one collector's output by hand.
 */
export async function runOnce(
  collector: Collector,
  roots: HostRoots,
  options: RunOnceOptions = {},
): Promise<{ families: MetricFamily[]; text: string; verdicts: Verdict[] }> {
  const registry = new MetricRegistry();
  const verdicts: Verdict[] = [];
  const log = pino({ level: 'silent' });
  await collector.collect({
    ...roots,
    registry,
    signal: options.signal ?? new AbortController().signal,
    now: options.now ?? Date.now,
    log,
    report: (verdict) => verdicts.push(verdict),
  });
  const families = registry.collect();
  return { families, text: formatExposition(families), verdicts };
}
