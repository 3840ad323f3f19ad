/**
 * Turns verdicts into check results. A result goes to the outbox when a check's status changes
 * and, while it stays the same, at most once every `repeatSeconds`: enough evidence to show in the
 * monthly report that the check kept running, without flooding the store with identical results.
 * The latest verdict of each check is exported as creditops_check_status.
 */
import type { MetricRegistry } from '../lib/metrics.js';
import type { CheckStatus } from '../lib/wire/push.js';
import type { Verdict } from './collectors/types.js';
import type { Outbox } from './outbox.js';

export const STATUS_CODE: Record<CheckStatus, number> = { OK: 0, WARN: 1, CRIT: 2, UNKNOWN: 3 };

interface Latest {
  verdict: Verdict;
  observedAt: number;
  recordedAt: number;
  changedAt: number;
}

export class VerdictRecorder {
  private readonly latest = new Map<string, Latest>();

  constructor(
    private readonly outbox: Outbox,
    private readonly repeatSeconds = 300,
    /** Verdicts not seen again for this long are forgotten (their target went away). */
    private readonly forgetSeconds = 3600,
  ) {}

  record(verdicts: Verdict[], observedAt: number): void {
    for (const verdict of verdicts) {
      const key = `${verdict.check}\u0000${verdict.target ?? ''}`;
      const previous = this.latest.get(key);
      const changed = previous?.verdict.status !== verdict.status;
      const due = !previous || changed || observedAt - previous.recordedAt >= this.repeatSeconds * 1000;
      if (due) {
        this.outbox.enqueue({
          check: verdict.check,
          ...(verdict.target === undefined ? {} : { target: verdict.target }),
          status: verdict.status,
          summary: verdict.summary,
          ...(verdict.details === undefined ? {} : { details: verdict.details }),
          observedAt: new Date(observedAt).toISOString(),
        });
      }
      this.latest.set(key, {
        verdict,
        observedAt,
        recordedAt: due ? observedAt : previous!.recordedAt,
        changedAt: changed ? observedAt : previous!.changedAt,
      });
    }
  }

  write(registry: MetricRegistry, now: number): void {
    const status = registry.gauge(
      'creditops_check_status',
      'Latest verdict of a check: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN.',
    );
    const since = registry.gauge(
      'creditops_check_status_change_timestamp_seconds',
      'When the check last changed status.',
    );
    for (const [key, entry] of this.latest) {
      if (now - entry.observedAt > this.forgetSeconds * 1000) {
        this.latest.delete(key);
        continue;
      }
      const labels = { check: entry.verdict.check, target: entry.verdict.target ?? '' };
      status.set(labels, STATUS_CODE[entry.verdict.status]);
      since.set(labels, entry.changedAt / 1000);
    }
  }
}
