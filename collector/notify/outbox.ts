/**
 * The durable notification outbox. A message is written in the same transaction as the ticket
 * event that causes it, then sent by a worker:
 *
 *   pending ──claim (lease)──▶ sending ──▶ sent
 *      ▲                          │  └──▶ failed   (not retryable, or attempts exhausted; reason kept)
 *      └── retry with backoff ◀───┘  └──▶ unknown  (lease expired: the process died mid-send)
 *   pending (held_until) ──▶ suppressed (the ticket was resolved before the maintenance window ended)
 *
 * No double send after a crash: a message is marked `sending` (committed) before the channel is
 * called. If the process dies before the outcome is written, the row is still `sending` when its
 * lease expires; it then becomes `unknown` and is NOT resent, because SMS providers (Aliyun,
 * Tencent, gateways) have no idempotency key and may already have delivered and billed it. The
 * ticket's timeline and `creditops_notify_outbox_messages{state="unknown"}` ask a person to
 * check; `requeue()` (API) sends it again on purpose. Channels listed in
 * `outbox.resendAfterCrash` (a chat robot, say, where a duplicate beats a miss) go back to
 * pending instead. A crash before the claim commits leaves the row pending: it is sent after
 * the restart, once.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { type OutboxRow, type TicketDatabase, ticketDb } from '../store/ticket-tables.js';
import type { Trx } from '../tickets/service.js';
import type { Channel, DeliveryResult } from './channels/types.js';
import type { NotificationPolicy } from './policy.js';

export interface NewMessage {
  dedupeKey: string;
  ticketId: string | null;
  reason: string;
  channel: string;
  recipients: string[];
  subject: string;
  text: string;
  markdown?: string | undefined;
  templateParams?: Record<string, string> | undefined;
  severity: string;
  /** Not before this instant (quiet hours). */
  notBefore?: number;
  /** Held by a maintenance window until this instant; dropped if the ticket is resolved by then. */
  heldUntil?: number;
}

/** Writes a line in a ticket's timeline (wired to TicketService.event). */
export type TimelineWriter = (
  trx: Trx,
  ticketId: string,
  type: string,
  message: string,
  data: Record<string, unknown>,
) => Promise<void>;

export interface OutboxOptions {
  store: Store;
  policy: NotificationPolicy['outbox'];
  channels: ReadonlyMap<string, Channel>;
  now: () => number;
  log: Logger;
  timeline?: TimelineWriter;
  /** Rows claimed per drain round. @defaultValue 50 */
  batch?: number;
}

export const OUTBOX_STATES = ['pending', 'sending', 'sent', 'failed', 'unknown', 'suppressed'] as const;

export class Outbox {
  private readonly db: Kysely<TicketDatabase>;
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** Sends completed since start, for tests and metrics. */
  sentCount = 0;

  constructor(private readonly options: OutboxOptions) {
    this.db = ticketDb(options.store);
  }

  private iso(ms = this.options.now()): string {
    return new Date(ms).toISOString();
  }

  /** Queues a message inside the caller's transaction; a second call with the same key is a no-op. */
  async enqueueIn(trx: Trx, m: NewMessage): Promise<void> {
    const now = this.options.now();
    const due = Math.max(now, m.notBefore ?? now, m.heldUntil ?? now);
    await trx
      .insertInto('outbox')
      .values({
        id: randomUUID(),
        dedupe_key: m.dedupeKey,
        ticket_id: m.ticketId,
        reason: m.reason,
        channel: m.channel,
        recipients: JSON.stringify(m.recipients),
        subject: m.subject,
        text: m.text,
        markdown: m.markdown ?? null,
        template_params: m.templateParams ? JSON.stringify(m.templateParams) : null,
        severity: m.severity,
        state: 'pending',
        attempts: 0,
        next_attempt_at: this.iso(due),
        lease_until: null,
        held_until: m.heldUntil === undefined ? null : this.iso(m.heldUntil),
        last_error: null,
        provider_message_id: null,
        created_at: this.iso(now),
        updated_at: this.iso(now),
        sent_at: null,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .execute();
  }

  /** Rows whose lease expired while `sending`: `unknown` (or pending again for resendAfterCrash channels). */
  async recoverExpiredLeases(): Promise<number> {
    const nowIso = this.iso();
    const stale = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('state', '=', 'sending')
      .where('lease_until', '<', nowIso)
      .execute();
    for (const row of stale) {
      const resend = this.options.policy.resendAfterCrash.includes(row.channel);
      await this.db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('outbox')
          .set(
            resend
              ? {
                  state: 'pending',
                  lease_until: null,
                  next_attempt_at: nowIso,
                  updated_at: nowIso,
                  last_error: 'sent again after an interrupted attempt (resendAfterCrash)',
                }
              : {
                  state: 'unknown',
                  lease_until: null,
                  updated_at: nowIso,
                  last_error:
                    'the collector stopped while sending; the provider may or may not have delivered it',
                },
          )
          .where('id', '=', row.id)
          .where('state', '=', 'sending')
          .where('attempts', '=', row.attempts)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0 || row.ticket_id === null) return;
        await this.options.timeline?.(
          trx,
          row.ticket_id,
          resend ? 'notification_queued' : 'notification_unknown',
          resend
            ? `通知（${row.channel}）发送中断，已重新排队`
            : `通知（${row.channel} → ${JSON.parse(row.recipients).join('、')}）发送中断，是否送达未知，请人工核对；不会自动重发`,
          { outboxId: row.id, channel: row.channel },
        );
      });
      this.options.log.warn(
        { outboxId: row.id, channel: row.channel, resend },
        'outbox message interrupted while sending',
      );
    }
    return stale.length;
  }

  /** Sends every due message; concurrent calls coalesce. */
  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.again = false;
          await this.recoverExpiredLeases();
          while ((await this.round()) > 0) {
            // keep going while rounds find work
          }
        } while (this.again);
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }

  private async round(): Promise<number> {
    const nowIso = this.iso();
    const due = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', nowIso)
      .orderBy('next_attempt_at')
      .limit(this.options.batch ?? 50)
      .execute();
    const claimed: OutboxRow[] = [];
    for (const row of due) {
      const c = await this.claim(row);
      if (c) claimed.push(c);
    }
    // One channel instance at a time in order (its rate window), channels in parallel.
    const byChannel = new Map<string, OutboxRow[]>();
    for (const row of claimed) byChannel.set(row.channel, [...(byChannel.get(row.channel) ?? []), row]);
    await Promise.all(
      [...byChannel.values()].map(async (rows) => {
        for (const row of rows) await this.send(row);
      }),
    );
    return claimed.length;
  }

  /** Marks the row `sending` with a lease, committed before the channel is called. */
  private async claim(row: OutboxRow): Promise<OutboxRow | null> {
    const now = this.options.now();
    const nowIso = this.iso(now);
    if (row.held_until !== null && row.ticket_id !== null) {
      const ticket = await this.db
        .selectFrom('tickets')
        .select(['status'])
        .where('id', '=', row.ticket_id)
        .executeTakeFirst();
      if (ticket && (ticket.status === 'resolved' || ticket.status === 'closed')) {
        await this.settle(
          row,
          {
            state: 'suppressed',
            last_error: 'held by a maintenance window; the ticket was resolved before it ended',
          },
          'notification_suppressed',
          `维护窗口结束前工单已解决，通知（${row.channel}）不再发送`,
        );
        return null;
      }
    }
    const lease = this.iso(now + this.options.policy.leaseSeconds * 1000);
    const r = await this.db
      .updateTable('outbox')
      .set({ state: 'sending', lease_until: lease, attempts: row.attempts + 1, updated_at: nowIso })
      .where('id', '=', row.id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return null; // another worker has it
    return { ...row, state: 'sending', lease_until: lease, attempts: row.attempts + 1 };
  }

  private async send(row: OutboxRow): Promise<void> {
    const channel = this.options.channels.get(row.channel);
    const recipients = JSON.parse(row.recipients) as string[];
    let result: DeliveryResult;
    if (!channel) {
      result = {
        ok: false,
        retryable: false,
        error: `通知渠道 ${row.channel} 未配置 / channel "${row.channel}" is not configured`,
      };
    } else {
      try {
        result = await channel.send({
          to: recipients,
          subject: row.subject,
          text: row.text,
          ...(row.markdown ? { markdown: row.markdown } : {}),
          ...(row.template_params
            ? { templateParams: JSON.parse(row.template_params) as Record<string, string> }
            : {}),
        });
      } catch (error) {
        // A throw is a channel bug; whether anything left is unknown, so it is not retried.
        this.options.log.error({ err: error, outboxId: row.id }, 'notification channel threw');
        await this.settle(
          row,
          { state: 'unknown', last_error: `channel threw: ${(error as Error).message}` },
          'notification_unknown',
          `通知（${row.channel}）发送异常，是否送达未知，请人工核对`,
        );
        return;
      }
    }
    const who = recipients.join('、') || '群机器人';
    if (result.ok) {
      this.sentCount++;
      await this.settle(
        row,
        {
          state: 'sent',
          sent_at: this.iso(),
          provider_message_id: result.providerMessageId ?? null,
          last_error: null,
        },
        'notification_sent',
        `通知已发送（${row.channel} → ${who}）${result.truncated ? '，内容已按渠道长度限制截短' : ''}`,
      );
      return;
    }
    const partial =
      result.failedRecipients &&
      result.failedRecipients.length > 0 &&
      result.failedRecipients.length < recipients.length;
    const remaining = partial ? result.failedRecipients! : recipients;
    const { maxAttempts, initialBackoffSeconds, maxBackoffSeconds } = this.options.policy;
    if (result.retryable && row.attempts < maxAttempts) {
      const backoff = Math.min(
        maxBackoffSeconds * 1000,
        initialBackoffSeconds * 1000 * 2 ** (row.attempts - 1),
      );
      const wait = Math.max(backoff, result.retryAfterMs ?? 0);
      await this.settle(
        row,
        {
          state: 'pending',
          next_attempt_at: this.iso(this.options.now() + wait),
          recipients: JSON.stringify(remaining),
          last_error: result.error,
        },
        partial ? 'notification_failed' : null,
        partial ? `通知部分失败（${row.channel}）：${result.error}；将只向 ${remaining.join('、')} 重试` : '',
      );
      return;
    }
    await this.settle(
      row,
      { state: 'failed', recipients: JSON.stringify(remaining), last_error: result.error },
      'notification_failed',
      `通知发送失败（${row.channel} → ${remaining.join('、') || '群机器人'}，第 ${row.attempts} 次，已放弃）：${result.error}`,
    );
  }

  private async settle(
    row: OutboxRow,
    patch: Partial<OutboxRow>,
    eventType: string | null,
    message: string,
  ): Promise<void> {
    const nowIso = this.iso();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('outbox')
        .set({ ...patch, lease_until: null, updated_at: nowIso })
        .where('id', '=', row.id)
        .execute();
      if (eventType && row.ticket_id) {
        await this.options.timeline?.(trx, row.ticket_id, eventType, message, {
          outboxId: row.id,
          channel: row.channel,
          attempts: row.attempts,
        });
      }
    });
  }

  /** Sends an `unknown` or `failed` message again, on a person's decision. */
  async requeue(id: string): Promise<boolean> {
    const nowIso = this.iso();
    const r = await this.db
      .updateTable('outbox')
      .set({ state: 'pending', next_attempt_at: nowIso, attempts: 0, updated_at: nowIso })
      .where('id', '=', id)
      .where('state', 'in', ['unknown', 'failed'])
      .executeTakeFirst();
    this.kick();
    return Number(r.numUpdatedRows) > 0;
  }

  async counts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const out = new Map<string, number>(OUTBOX_STATES.map((s) => [s, 0]));
    for (const r of rows) out.set(r.state, Number(r.n));
    return out;
  }

  async list(ticketId?: string): Promise<OutboxRow[]> {
    let q = this.db.selectFrom('outbox').selectAll();
    if (ticketId) q = q.where('ticket_id', '=', ticketId);
    return q.orderBy('created_at').execute();
  }

  /** Wakes the worker now (after a commit that queued messages). */
  kick(): void {
    if (this.stopped) return;
    void this.drain().catch((error) => this.options.log.error({ err: error }, 'outbox drain failed'));
  }

  /** Starts the background worker: drains now and every pollMs. */
  start(pollMs: number): void {
    this.stopped = false;
    const loop = () => {
      this.timer = setTimeout(async () => {
        try {
          await this.drain();
        } catch (error) {
          this.options.log.error({ err: error }, 'outbox drain failed');
        }
        if (!this.stopped) loop();
      }, pollMs);
      this.timer.unref();
    };
    this.kick();
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
  }
}
