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
import type { Channel, DeliveryResult, OutboundMessage } from './channels/types.js';
import type { NotificationPolicy } from './policy.js';
import { renderDigest } from './templates.js';

/** Messages merged into one digest at most; the rest leave in the next. */
const DIGEST_MAX_MESSAGES = 1000;

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
    if (this.options.policy.groupWindowSeconds > 0) return this.groupedRound(nowIso);
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

  /**
   * Grouping (`outbox.groupWindowSeconds` > 0): per receiver (channel instance and recipients),
   * a message goes out at once when nothing went to that receiver within the window; otherwise
   * it waits for the window to close and everything due by then leaves as ONE digest listing
   * the tickets. An alert storm thus costs each receiver a mail per window, not a mail per alert,
   * while the first alert after a quiet spell is not delayed. The last send time is read from
   * the store, so a restart does not reopen the window early.
   */
  private async groupedRound(nowIso: string): Promise<number> {
    const due = await this.db
      .selectFrom('outbox')
      .select(['channel', 'recipients'])
      .distinct()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', nowIso)
      .limit(this.options.batch ?? 50)
      .execute();
    const windowMs = this.options.policy.groupWindowSeconds * 1000;
    let handled = 0;
    for (const receiver of due) {
      const last = await this.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.max('sent_at').as('at'))
        .where('state', '=', 'sent')
        .where('channel', '=', receiver.channel)
        .where('recipients', '=', receiver.recipients)
        .executeTakeFirst();
      const lastAt = last?.at ? Date.parse(last.at as string) : Number.NEGATIVE_INFINITY;
      if (this.options.now() < lastAt + windowMs) {
        await this.db
          .updateTable('outbox')
          .set({ next_attempt_at: this.iso(lastAt + windowMs), updated_at: nowIso })
          .where('state', '=', 'pending')
          .where('channel', '=', receiver.channel)
          .where('recipients', '=', receiver.recipients)
          .where('next_attempt_at', '<=', nowIso)
          .execute();
        continue;
      }
      // The window is open: everything due leaves now, in digests of DIGEST_MAX_MESSAGES.
      for (;;) {
        const rows = await this.db
          .selectFrom('outbox')
          .selectAll()
          .where('state', '=', 'pending')
          .where('channel', '=', receiver.channel)
          .where('recipients', '=', receiver.recipients)
          .where('next_attempt_at', '<=', nowIso)
          .orderBy('created_at')
          .limit(DIGEST_MAX_MESSAGES)
          .execute();
        if (rows.length === 0) break;
        const claimed = await this.claimAll(rows);
        if (claimed.length === 1) await this.send(claimed[0]!);
        else if (claimed.length > 1) await this.sendDigest(claimed);
        handled += claimed.length;
        if (rows.length < DIGEST_MAX_MESSAGES) break;
      }
    }
    return handled;
  }

  /** Claims rows in one transaction (one fsync for a storm's worth of rows). */
  private async claimAll(rows: OutboxRow[]): Promise<OutboxRow[]> {
    const open: OutboxRow[] = [];
    for (const row of rows) {
      // Rows held by a maintenance window go through the one-by-one claim (suppression check).
      if (row.held_until !== null) {
        const c = await this.claim(row);
        if (c) open.push(c);
      } else open.push(row);
    }
    const now = this.options.now();
    const nowIso = this.iso(now);
    const lease = this.iso(now + this.options.policy.leaseSeconds * 1000);
    return this.db.transaction().execute(async (trx) => {
      const claimed: OutboxRow[] = [];
      for (const row of open) {
        if (row.state === 'sending') {
          claimed.push(row); // claimed above
          continue;
        }
        const r = await trx
          .updateTable('outbox')
          .set({ state: 'sending', lease_until: lease, attempts: row.attempts + 1, updated_at: nowIso })
          .where('id', '=', row.id)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) > 0)
          claimed.push({ ...row, state: 'sending', lease_until: lease, attempts: row.attempts + 1 });
      }
      return claimed;
    });
  }

  private async sendDigest(rows: OutboxRow[]): Promise<void> {
    const first = rows[0]!;
    const channel = this.options.channels.get(first.channel);
    const recipients = JSON.parse(first.recipients) as string[];
    const digest = renderDigest(
      rows.map((r) => ({
        subject: r.subject,
        text: r.text,
        severity: r.severity,
        templateParams: r.template_params ? (JSON.parse(r.template_params) as Record<string, string>) : null,
      })),
      this.options.policy.groupWindowSeconds,
    );
    const result = await this.deliver(channel, first.channel, { to: recipients, ...digest });
    await this.db.transaction().execute(async (trx) => {
      for (const row of rows) await this.record(row, result, trx, rows.length);
    });
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
    const result = await this.deliver(this.options.channels.get(row.channel), row.channel, {
      to: JSON.parse(row.recipients) as string[],
      subject: row.subject,
      text: row.text,
      ...(row.markdown ? { markdown: row.markdown } : {}),
      ...(row.template_params
        ? { templateParams: JSON.parse(row.template_params) as Record<string, string> }
        : {}),
    });
    await this.record(row, result);
  }

  /** Calls the channel; a throw (a channel bug) becomes `'threw'`: whether anything left is unknown. */
  private async deliver(
    channel: Channel | undefined,
    name: string,
    message: OutboundMessage,
  ): Promise<DeliveryResult | { threw: string }> {
    if (!channel) {
      return {
        ok: false,
        retryable: false,
        error: `通知渠道 ${name} 未配置 / channel "${name}" is not configured`,
      };
    }
    try {
      return await channel.send(message);
    } catch (error) {
      this.options.log.error({ err: error, channel: name }, 'notification channel threw');
      return { threw: (error as Error).message };
    }
  }

  /** Writes a send's outcome for one row; `digestOf` > 1 when it went out inside a digest. */
  private async record(
    row: OutboxRow,
    result: DeliveryResult | { threw: string },
    trx?: Trx,
    digestOf = 1,
  ): Promise<void> {
    if ('threw' in result) {
      // Not retried: the provider may have accepted it before the channel failed.
      await this.settle(
        row,
        { state: 'unknown', last_error: `channel threw: ${result.threw}` },
        'notification_unknown',
        `通知（${row.channel}）发送异常，是否送达未知，请人工核对`,
        trx,
      );
      return;
    }
    const recipients = JSON.parse(row.recipients) as string[];
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
        `通知已发送（${row.channel} → ${who}）${digestOf > 1 ? `，与其他 ${digestOf - 1} 条通知合并为一条汇总` : ''}${result.truncated ? '，内容已按渠道长度限制截短' : ''}`,
        trx,
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
        trx,
      );
      return;
    }
    await this.settle(
      row,
      { state: 'failed', recipients: JSON.stringify(remaining), last_error: result.error },
      'notification_failed',
      `通知发送失败（${row.channel} → ${remaining.join('、') || '群机器人'}，第 ${row.attempts} 次，已放弃）：${result.error}`,
      trx,
    );
  }

  private async settle(
    row: OutboxRow,
    patch: Partial<OutboxRow>,
    eventType: string | null,
    message: string,
    outer?: Trx,
  ): Promise<void> {
    const nowIso = this.iso();
    const write = async (trx: Trx) => {
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
    };
    if (outer) await write(outer);
    else await this.db.transaction().execute(write);
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
