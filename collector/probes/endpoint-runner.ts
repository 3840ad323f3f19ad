/**
 * Runs the configured endpoint probes on their intervals, each run bounded by the timeout, and
 * hands the results to the collector's source (stored as check results, exported on /metrics).
 * A slow target never delays another: each has its own timer, and a run still going when its
 * next one is due is not started twice.
 */
import type { Logger } from 'pino';
import { LocalHost } from '../../probes/hosts/local-host.js';
import { targetProbes } from '../../probes/index.js';
import { type ProbeResult, runProbe } from '../../probes/types.js';
import type { CollectorProbesConfig, EndpointTargetConfig } from './config.js';
import type { CollectorSource } from './source.js';

export function targetName(t: EndpointTargetConfig): string {
  return t.name ?? String(t.options.url ?? t.options.target ?? t.options.name ?? t.probe);
}

export class EndpointProbeRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<EndpointTargetConfig>();
  private stopped = true;
  private readonly host = new LocalHost();

  constructor(
    private readonly config: CollectorProbesConfig,
    private readonly source: CollectorSource,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.stopped = false;
    for (const target of this.config.targets) this.schedule(target, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async runAll(): Promise<void> {
    await Promise.all(this.config.targets.map((t) => this.run(t)));
  }

  private schedule(target: EndpointTargetConfig, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.run(target).finally(() =>
        this.schedule(target, (target.intervalSeconds ?? this.config.intervalSeconds) * 1000),
      );
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  async run(target: EndpointTargetConfig): Promise<void> {
    if (this.running.has(target)) return;
    const probe = targetProbes[target.probe];
    if (!probe) return;
    this.running.add(target);
    const name = targetName(target);
    const controller = new AbortController();
    const timeoutMs = this.config.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<ProbeResult[]>((resolve) => {
        timer = setTimeout(() => {
          controller.abort();
          resolve([
            {
              status: 'UNKNOWN',
              summary: `${name} 检查超时（${this.config.timeoutSeconds} 秒）`,
              details: { reason: 'timeout' },
            },
          ]);
        }, timeoutMs);
      });
      const results = await Promise.race([
        runProbe(probe, {
          host: this.host,
          options: target.options,
          signal: controller.signal,
          now: this.now,
        }),
        timedOut,
      ]);
      await this.source.record(
        `${probe.id}\u0000${name}`,
        results.map((r) => ({ ...r, check: probe.id, target: r.target ?? name })),
      );
    } catch (error) {
      this.log.error({ err: error, probe: probe.id, target: name }, 'cannot store endpoint probe results');
    } finally {
      clearTimeout(timer);
      this.running.delete(target);
    }
  }
}
