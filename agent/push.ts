/**
 * Pushes the agent's latest metrics and its unacknowledged check results to the collector. A
 * failed push is retried with exponential backoff (capped at the push interval); metrics are
 * latest values and simply go with the next push, check results stay in the outbox until acked.
 */
import type { Logger } from 'pino';
import type { MetricFamily } from '../lib/metrics.js';
import {
  checkPushPayload,
  encodeValue,
  type Inventory,
  PROTOCOL_VERSION,
  type PushPayload,
  type PushResponse,
} from '../lib/wire/push.js';
import type { Outbox } from './outbox.js';

export interface PushOptions {
  url: string;
  token: string;
  agentName: string;
  version: string;
  intervalMs: number;
  timeoutMs: number;
  startedAt: Date;
  log: Logger;
  outbox: Outbox;
  families: () => MetricFamily[];
  inventory: () => Promise<Inventory | undefined>;
  now?: () => number;
}

export type PushResult = 'ok' | 'rejected' | 'unreachable' | 'invalid_payload';

export class Pusher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  private inventorySentAt = 0;
  readonly counts: Record<PushResult, number> = { ok: 0, rejected: 0, unreachable: 0, invalid_payload: 0 };
  lastSuccessAt: number | undefined;
  lastDurationSeconds = 0;
  lastError: string | undefined;
  private lastResult: PushResult | undefined;

  constructor(private readonly options: PushOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      const result = await this.pushOnce();
      this.failures = result === 'ok' ? 0 : this.failures + 1;
      const backoff = Math.min(this.options.intervalMs, 1000 * 2 ** Math.min(this.failures, 10));
      this.schedule(result === 'ok' ? this.options.intervalMs : backoff);
    }, delayMs);
  }

  async buildPayload(): Promise<PushPayload> {
    const now = this.options.now?.() ?? Date.now();
    const payload: PushPayload = {
      protocol: PROTOCOL_VERSION,
      agent: {
        name: this.options.agentName,
        version: this.options.version,
        intervalSeconds: this.options.intervalMs / 1000,
        startedAt: this.options.startedAt.toISOString(),
      },
      sentAt: new Date(now).toISOString(),
      families: this.options.families().map((f) => ({
        name: f.name,
        help: f.help,
        type: f.type,
        samples: f.samples.map((s) => ({ labels: s.labels, value: encodeValue(s.value) })),
      })),
      checks: this.options.outbox.pending(),
    };
    // Inventory goes with the first successful push and then once a day.
    if (now - this.inventorySentAt > 86_400_000) {
      const inventory = await this.options.inventory().catch(() => undefined);
      if (inventory) payload.inventory = inventory;
    }
    return payload;
  }

  async pushOnce(): Promise<PushResult> {
    const started = performance.now();
    const payload = await this.buildPayload();
    const errors = checkPushPayload(payload);
    if (errors.length > 0) {
      // A programmer error in a collector; the collector would refuse it anyway.
      this.options.log.error({ errors: errors.slice(0, 10) }, 'push payload fails its own schema; not sent');
      return this.done('invalid_payload', started, errors[0]?.message);
    }
    let response: Response;
    try {
      response = await fetch(new URL('/api/v1/push', this.options.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const message =
        (error as Error).cause instanceof Error
          ? ((error as Error).cause as Error).message
          : (error as Error).message;
      // Said once per outage, not at every retry; the count is in creditops_agent_pushes_total.
      if (this.lastResult !== 'unreachable') {
        this.options.log.warn(
          { url: this.options.url, error: message },
          'collector unreachable; check results wait in the outbox',
        );
      }
      return this.done('unreachable', started, message);
    }
    const text = await response.text();
    if (!response.ok) {
      // A refusal of the metrics still carries the seqs of the check results it stored.
      const acked = (() => {
        try {
          return (JSON.parse(text) as Partial<PushResponse>).acked;
        } catch {
          return undefined;
        }
      })();
      if (Array.isArray(acked)) this.options.outbox.ack(acked);
      this.options.log.error(
        { status: response.status, body: text.slice(0, 2000) },
        'collector rejected the push',
      );
      return this.done('rejected', started, `HTTP ${response.status}: ${text.slice(0, 500)}`);
    }
    let body: PushResponse;
    try {
      body = JSON.parse(text) as PushResponse;
    } catch {
      return this.done('rejected', started, 'collector answered with invalid JSON');
    }
    this.options.outbox.ack(Array.isArray(body.acked) ? body.acked : []);
    if (payload.inventory) this.inventorySentAt = Date.parse(payload.sentAt);
    this.lastSuccessAt = Date.now();
    return this.done('ok', started, undefined);
  }

  private done(result: PushResult, started: number, error: string | undefined): PushResult {
    if (result === 'ok' && this.lastResult !== undefined && this.lastResult !== 'ok') {
      this.options.log.info(
        { url: this.options.url, pending: this.options.outbox.size },
        'collector reachable again',
      );
    }
    this.lastResult = result;
    this.counts[result]++;
    this.lastDurationSeconds = (performance.now() - started) / 1000;
    this.lastError = error;
    return result;
  }
}
