/**
 * The collector as a source of check results: what it probes from the centre (endpoints, the
 * portal, hosts over SSH) is stored exactly like an agent's results — under a pseudo-agent, with
 * its own sequence numbers — so the check evaluator, tickets and reports treat both alike. A
 * result is stored when its status changes and at least every `repeatSeconds` while unchanged.
 */
import type { Logger } from 'pino';
import type { MetricFamily } from '../../lib/metrics.js';
import { type CheckResult, encodeValue, type WireFamily } from '../../lib/wire/push.js';
import type { ProbeResult } from '../../probes/types.js';
import type { FleetMetrics } from '../exposition/fleet-metrics.js';
import { type Agent, enrollAgent, getAgentByName } from '../store/agents.js';
import { recordPush } from '../store/check-results.js';
import type { Store } from '../store/store.js';

const STATUS_CODE = { OK: 0, WARN: 1, CRIT: 2, UNKNOWN: 3 } as const;

export interface SourceResult extends ProbeResult {
  check: string;
}

export class CollectorSource {
  private agent: Agent | undefined;
  private nextSeq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly latest = new Map<string, { status: string; recordedAt: number; result: SourceResult }>();
  /** Latest metric families per unit (probe target), re-ingested together. */
  private readonly families = new Map<string, WireFamily[]>();

  constructor(
    private readonly options: {
      name: string;
      store: Store;
      fleet: FleetMetrics;
      now: () => number;
      log: Logger;
      intervalSeconds: number;
      repeatSeconds?: number;
    },
  ) {}

  private async ensure(): Promise<Agent> {
    if (this.agent) return this.agent;
    const { store, name } = this.options;
    // The token is thrown away: nothing pushes as this agent, the collector writes its rows.
    this.agent = (await getAgentByName(store, name)) ?? (await enrollAgent(store, name)).agent;
    const row = await store.db
      .selectFrom('check_results')
      .select((eb) => eb.fn.max('seq').as('max'))
      .where('agent_id', '=', this.agent.id)
      .executeTakeFirst();
    this.nextSeq = Number(row?.max ?? 0) + 1;
    return this.agent;
  }

  /** Stores the results that are due and refreshes the unit's metrics; serialised. */
  record(unit: string, results: SourceResult[]): Promise<number> {
    const next = this.chain.then(() => this.recordNow(unit, results));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async recordNow(unit: string, results: SourceResult[]): Promise<number> {
    const agent = await this.ensure();
    const now = this.options.now();
    const repeatMs = (this.options.repeatSeconds ?? 300) * 1000;
    const due: CheckResult[] = [];
    for (const r of results) {
      const key = `${r.check}\u0000${r.target ?? ''}`;
      const previous = this.latest.get(key);
      if (!previous || previous.status !== r.status || now - previous.recordedAt >= repeatMs) {
        due.push({
          seq: this.nextSeq++,
          check: r.check,
          ...(r.target === undefined ? {} : { target: r.target.slice(0, 500) }),
          status: r.status,
          summary: r.summary.slice(0, 2000),
          ...(r.details === undefined ? {} : { details: r.details }),
          observedAt: new Date(now).toISOString(),
        });
        this.latest.set(key, { status: r.status, recordedAt: now, result: r });
      } else {
        this.latest.set(key, { ...previous, result: r });
      }
    }
    await recordPush(
      this.options.store,
      agent.id,
      { address: null, intervalSeconds: this.options.intervalSeconds },
      due,
      {
        receivedAt: now,
      },
    );
    this.families.set(
      unit,
      results.flatMap((r) => toWire(r.metrics ?? [], { probe: r.check, target: r.target ?? '' })),
    );
    this.ingest(agent, now);
    return due.length;
  }

  private ingest(agent: Agent, now: number): void {
    const merged = new Map<string, WireFamily>();
    for (const list of this.families.values()) {
      for (const f of list) {
        const existing = merged.get(f.name);
        if (existing) existing.samples.push(...f.samples);
        else merged.set(f.name, { ...f, samples: [...f.samples] });
      }
    }
    const status: WireFamily = {
      name: 'creditops_check_status',
      help: 'Latest verdict of a check: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN.',
      type: 'gauge',
      samples: [...this.latest.values()].map(({ result }) => ({
        labels: { check: result.check, target: result.target ?? '' },
        value: STATUS_CODE[result.status],
      })),
    };
    const problems = this.options.fleet.ingest(
      agent,
      [...merged.values(), status],
      this.options.intervalSeconds,
      now,
    );
    if (problems.length > 0) this.options.log.warn({ problems }, 'collector probe metrics refused');
  }

  /** The latest result of every check, for pages and the inspection. */
  latestResults(): SourceResult[] {
    return [...this.latest.values()].map((l) => l.result);
  }
}

function toWire(families: MetricFamily[], extra: Record<string, string>): WireFamily[] {
  return families.map((f) => ({
    name: f.name,
    help: f.help,
    type: f.type,
    samples: f.samples.map((s) => ({ labels: { ...s.labels, ...extra }, value: encodeValue(s.value) })),
  }));
}
