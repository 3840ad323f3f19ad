/** The collector's own counters, and the renderer that joins them with the fleet's families. */
import { escapeHelp, formatLabels, formatValue } from '../../lib/exposition.js';
import type { Labels } from '../../lib/metrics.js';
import type { ProcessStats } from '../../lib/process-stats.js';
import type { Agent } from '../store/agents.js';
import { OWN_FAMILIES, type OwnFamilyName } from './families.js';
import type { MergedFamily } from './fleet-metrics.js';

/** How a push ended, as counted in creditops_collector_pushes_total{result}. */
export const PUSH_RESULTS = [
  'ok',
  'unauthorized',
  'forbidden',
  'invalid',
  'conflict',
  'too_large',
  'unsupported_media_type',
  'error',
] as const;
export type PushResult = (typeof PUSH_RESULTS)[number];

export function pushResultForStatus(status: number): PushResult {
  if (status < 300) return 'ok';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status < 500) return 'invalid';
  return 'error';
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class CollectorMetrics {
  private readonly pushes = new Map<PushResult, number>(PUSH_RESULTS.map((r) => [r, 0]));
  private readonly bucketCounts = DURATION_BUCKETS.map(() => 0);
  private durationSum = 0;
  private durationCount = 0;
  checkResultsReceived = 0;
  checkResultsStored = 0;
  /** More own families (tickets, notifications), appended after the built-in ones. */
  readonly sources: (() => Map<OwnFamilyName, string[]>)[] = [];

  countPush(result: PushResult, seconds: number): void {
    this.pushes.set(result, (this.pushes.get(result) ?? 0) + 1);
    for (let i = 0; i < DURATION_BUCKETS.length; i++)
      if (seconds <= DURATION_BUCKETS[i]!) this.bucketCounts[i]!++;
    this.durationSum += seconds;
    this.durationCount++;
  }

  pushCount(result: PushResult): number {
    return this.pushes.get(result) ?? 0;
  }

  /** Sample lines (without header) of each own family, in declaration order. */
  lines(input: {
    agents: readonly Agent[];
    nowMs: number;
    staleAfterIntervals: number;
    version: string;
    process: ProcessStats | null;
  }): Map<OwnFamilyName, string[]> {
    const out = new Map<OwnFamilyName, string[]>();
    const add = (family: OwnFamilyName, labels: Labels, value: number) => {
      const lines = out.get(family) ?? [];
      out.set(family, lines);
      lines.push(`${family}${formatLabels(labels)} ${formatValue(value)}`);
    };
    for (const agent of input.agents) {
      add(
        'creditops_agent_up',
        { host: agent.name },
        agentUp(agent, input.nowMs, input.staleAfterIntervals) ? 1 : 0,
      );
    }
    for (const agent of input.agents) {
      if (agent.lastSeenAt === null) continue;
      add(
        'creditops_agent_last_push_timestamp_seconds',
        { host: agent.name },
        Date.parse(agent.lastSeenAt) / 1000,
      );
    }
    for (const [result, n] of this.pushes) add('creditops_collector_pushes_total', { result }, n);
    const histogram = 'creditops_collector_push_duration_seconds';
    const hist: string[] = DURATION_BUCKETS.map(
      (le, i) => `${histogram}_bucket{le="${formatValue(le)}"} ${this.bucketCounts[i]}`,
    );
    hist.push(`${histogram}_bucket{le="+Inf"} ${this.durationCount}`);
    hist.push(`${histogram}_sum ${formatValue(this.durationSum)}`);
    hist.push(`${histogram}_count ${this.durationCount}`);
    out.set(histogram, hist);
    add('creditops_check_results_received_total', {}, this.checkResultsReceived);
    add('creditops_check_results_stored_total', {}, this.checkResultsStored);
    add('creditops_build_info', { version: input.version }, 1);
    const p = input.process;
    if (p) {
      add('process_cpu_seconds_total', {}, p.cpuSeconds);
      add('process_resident_memory_bytes', {}, p.residentBytes);
      if (p.virtualBytes !== null) add('process_virtual_memory_bytes', {}, p.virtualBytes);
      add('process_start_time_seconds', {}, p.startTimeSeconds);
      if (p.openFds !== null) add('process_open_fds', {}, p.openFds);
      if (p.maxFds !== null) add('process_max_fds', {}, p.maxFds);
    }
    for (const source of this.sources) for (const [family, lines] of source()) out.set(family, lines);
    return out;
  }
}

/** Up when the agent pushed within staleAfterIntervals × its own interval. */
export function agentUp(agent: Agent, nowMs: number, staleAfterIntervals: number): boolean {
  if (agent.lastSeenAt === null || agent.intervalSeconds === null) return false;
  return nowMs - Date.parse(agent.lastSeenAt) <= agent.intervalSeconds * staleAfterIntervals * 1000;
}

/**
 * One exposition: the collector's own families first, then the agents' families by name. A
 * family both sides have (process_cpu_seconds_total, say) gets one header and both sets of lines.
 */
export function renderExposition(
  own: Map<OwnFamilyName, string[]>,
  fleet: Map<string, MergedFamily>,
): Buffer {
  const out: Buffer[] = [];
  const text = (s: string) => out.push(Buffer.from(s, 'utf8'));
  for (const [name, lines] of own) {
    const d = OWN_FAMILIES[name];
    text(
      `# HELP ${name} ${escapeHelp(d.help)}\n# TYPE ${name} ${d.type}\n${lines.map((l) => `${l}\n`).join('')}`,
    );
    const merged = fleet.get(name);
    if (merged) for (const chunk of merged.chunks) out.push(chunk);
  }
  for (const [name, family] of fleet) {
    if (own.has(name as OwnFamilyName)) continue;
    text(`# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n`);
    // A loop rather than push(...chunks): a family held by thousands of agents exceeds argument limits.
    for (const chunk of family.chunks) out.push(chunk);
  }
  return Buffer.concat(out);
}
