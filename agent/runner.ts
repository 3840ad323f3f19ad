/**
 * Runs each collector on its own interval with a hard timeout, keeps the latest output of each,
 * and reports `creditops_collector_success` and `creditops_collector_duration_seconds`. A slow
 * or failing collector never delays or fails the others: each has its own timer, and a run that
 * overruns its timeout is abandoned (its late output is discarded) and not started again until
 * it has finished, so runs never pile up.
 */
import type { Logger } from 'pino';
import { type MetricFamily, MetricRegistry } from '../lib/metrics.js';
import type { Collector, HostRoots, Verdict } from './collectors/types.js';

export interface ScheduledCollector {
  name: string;
  intervalMs: number;
  timeoutMs: number;
  collector: Collector;
}

export interface CollectorState {
  name: string;
  success: boolean;
  durationSeconds: number;
  lastRunAt: number | undefined;
  error: string | undefined;
  families: MetricFamily[];
  /** A run that outlived its timeout and has not returned yet. */
  inFlight: boolean;
  runs: number;
  timeouts: number;
}

export interface RunnerOptions {
  collectors: ScheduledCollector[];
  roots: HostRoots;
  log: Logger;
  now?: () => number;
  /** Told each time a collector's success flips (and on its first run). */
  onStatusChange?: (state: CollectorState) => void;
  /** Receives the verdicts of a run that completed in time (a late run's verdicts are dropped). */
  onVerdicts?: (verdicts: Verdict[], observedAt: number) => void;
}

export class CollectorRunner {
  private readonly states = new Map<string, CollectorState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly now: () => number;
  /** One child logger per collector, made once: pino's child() is not free on a per-cycle path. */
  private readonly logs = new Map<string, Logger>();
  private stopped = true;

  constructor(private readonly options: RunnerOptions) {
    this.now = options.now ?? Date.now;
    for (const c of options.collectors) {
      this.logs.set(c.name, options.log.child({ collector: c.name }));
      this.states.set(c.name, {
        name: c.name,
        success: false,
        durationSeconds: 0,
        lastRunAt: undefined,
        error: undefined,
        families: [],
        inFlight: false,
        runs: 0,
        timeouts: 0,
      });
    }
  }

  start(): void {
    this.stopped = false;
    for (const c of this.options.collectors) this.schedule(c, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled(this.options.collectors.map((c) => c.collector.close?.()));
  }

  /** Runs every collector once, in parallel, and waits for all (each bounded by its timeout). */
  async runAll(): Promise<void> {
    await Promise.all(this.options.collectors.map((c) => this.run(c)));
  }

  state(name: string): CollectorState | undefined {
    return this.states.get(name);
  }

  allStates(): CollectorState[] {
    return [...this.states.values()];
  }

  /** The latest output of every collector, merged by family name, plus the runner's own metrics. */
  families(): MetricFamily[] {
    const merged = new Map<string, MetricFamily>();
    for (const state of this.states.values()) {
      for (const family of state.families) {
        const existing = merged.get(family.name);
        if (existing) existing.samples = existing.samples.concat(family.samples);
        else merged.set(family.name, { ...family });
      }
    }
    const own = new MetricRegistry();
    const success = own.gauge(
      'creditops_collector_success',
      'Whether the collector succeeded on its last run (1) or failed or timed out (0).',
    );
    const duration = own.gauge(
      'creditops_collector_duration_seconds',
      'How long the collector took on its last run.',
    );
    const timeouts = own.counter(
      'creditops_collector_timeouts_total',
      'Runs of the collector abandoned at its timeout.',
    );
    for (const state of this.states.values()) {
      if (state.lastRunAt === undefined) continue;
      success.set({ collector: state.name }, state.success ? 1 : 0);
      duration.set({ collector: state.name }, state.durationSeconds);
      timeouts.set({ collector: state.name }, state.timeouts);
    }
    return [...merged.values(), ...own.collect()];
  }

  private schedule(c: ScheduledCollector, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      const started = this.now();
      void this.run(c).finally(() => {
        const elapsed = this.now() - started;
        this.schedule(c, Math.max(0, c.intervalMs - elapsed));
      });
    }, delayMs);
    timer.unref?.();
    this.timers.set(c.name, timer);
  }

  private async run(c: ScheduledCollector): Promise<void> {
    const state = this.states.get(c.name)!;
    const wasSuccess = state.lastRunAt === undefined ? undefined : state.success;
    if (state.inFlight) {
      // The previous run is still stuck past its timeout: do not start a second one.
      this.finish(state, false, 0, 'previous run has not returned yet', [], wasSuccess);
      return;
    }
    const registry = new MetricRegistry();
    const controller = new AbortController();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), c.timeoutMs);
    });
    state.inFlight = true;
    const verdicts: Verdict[] = [];
    const work = c.collector
      .collect({
        ...this.options.roots,
        registry,
        signal: controller.signal,
        now: this.now,
        log: this.logs.get(c.name)!,
        report: (verdict) => verdicts.push(verdict),
      })
      .then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      )
      .finally(() => {
        state.inFlight = false;
      });
    const outcome = await Promise.race([work, timedOut]);
    clearTimeout(timer);
    const seconds = (performance.now() - started) / 1000;
    if (outcome === 'timeout') {
      controller.abort(new Error(`collector ${c.name} timed out after ${c.timeoutMs} ms`));
      state.timeouts++;
      this.finish(state, false, seconds, `timed out after ${c.timeoutMs / 1000} s`, [], wasSuccess);
      return;
    }
    if (!outcome.ok) {
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      this.finish(state, false, seconds, message, [], wasSuccess);
      return;
    }
    this.finish(state, true, seconds, undefined, registry.collect(), wasSuccess);
    if (verdicts.length > 0) this.options.onVerdicts?.(verdicts, this.now());
  }

  private finish(
    state: CollectorState,
    success: boolean,
    seconds: number,
    error: string | undefined,
    families: MetricFamily[],
    wasSuccess: boolean | undefined,
  ): void {
    state.success = success;
    state.durationSeconds = seconds;
    state.lastRunAt = this.now();
    state.error = error;
    state.families = families;
    state.runs++;
    if (error && !success) this.options.log.warn({ collector: state.name, error }, 'collector run failed');
    if (wasSuccess !== success) this.options.onStatusChange?.(state);
  }
}
