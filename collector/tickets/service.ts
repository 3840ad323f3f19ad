/**
 * The ticket service: every way a ticket is opened or changes state goes through here, in one
 * transaction with its timeline events, its deadline clocks and (through the hook) the
 * notifications it causes — so a crash never leaves a ticket without its mail queued.
 *
 * Sources deduplicate by fingerprint: `raise()` adds an event to the open ticket of the same
 * fingerprint, reopens one resolved recently, and only otherwise opens a new ticket.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { WorkingDayCalendar } from '../../lib/calendar/index.js';
import type { Store } from '../store/store.js';
import {
  type TicketDatabase,
  type TicketDeadlineRow,
  type TicketEventRow,
  type TicketRow,
  ticketDb,
} from '../store/ticket-tables.js';
import { dueAfter, durationOf } from './deadlines.js';
import {
  CLOCK_TITLE,
  type ClockEnd,
  type ClockStart,
  clocksFor,
  KIND_PREFIX,
  type Severity,
  type TicketKind,
  type TicketPolicy,
  type TicketStatus,
} from './policy.js';

export type Trx = Transaction<TicketDatabase> | Kysely<TicketDatabase>;

export class TicketError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TicketError';
  }
}

/** Events that may notify people (see collector/notify/notifier.ts). */
export type NotifiableEvent = 'opened' | 'reopened' | 'resolved' | 'deadline_missed' | 'escalated';

export interface TicketHooks {
  /** Called inside the transaction that wrote the event. */
  onEvent?(
    trx: Trx,
    ticket: TicketRow,
    event: NotifiableEvent,
    detail: Record<string, unknown>,
  ): Promise<void>;
  /** Called after the transaction committed (e.g. to wake the outbox). */
  afterCommit?(): void;
}

export interface OpenInput {
  kind: TicketKind;
  severity: Severity;
  title: string;
  description?: string | null;
  host?: string | null;
  service?: string | null;
  source: 'alertmanager' | 'check' | 'manual';
  fingerprint?: string | null;
  labels?: Record<string, string>;
  assignee?: string | null;
  actor: string;
  /** Defaults to now; an alert's startsAt for alert tickets. */
  openedAt?: Date;
}

export interface RaiseOutcome {
  ticket: TicketRow;
  action: 'opened' | 'repeated' | 'reopened';
}

export interface TicketDetail {
  ticket: TicketRow;
  events: TicketEventRow[];
  deadlines: TicketDeadlineRow[];
}

export interface TicketServiceOptions {
  store: Store;
  policy: TicketPolicy;
  calendar: WorkingDayCalendar;
  now: () => number;
  log: Logger;
  hooks?: TicketHooks;
}

const TRANSITIONS: Record<string, { from: TicketStatus[]; to: TicketStatus }> = {
  acknowledge: { from: ['open'], to: 'acknowledged' },
  resolve: { from: ['open', 'acknowledged'], to: 'resolved' },
  close: { from: ['open', 'acknowledged', 'resolved'], to: 'closed' },
  reopen: { from: ['resolved', 'closed'], to: 'open' },
};

export class TicketService {
  readonly db: Kysely<TicketDatabase>;
  readonly policy: TicketPolicy;
  readonly calendar: WorkingDayCalendar;
  readonly now: () => number;
  readonly log: Logger;
  hooks: TicketHooks;

  constructor(options: TicketServiceOptions) {
    this.db = ticketDb(options.store);
    this.policy = options.policy;
    this.calendar = options.calendar;
    this.now = options.now;
    this.log = options.log;
    this.hooks = options.hooks ?? {};
  }

  /** Runs fn in a transaction and, once committed, tells the hooks. */
  async write<T>(fn: (trx: Transaction<TicketDatabase>) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute(fn);
    this.hooks.afterCommit?.();
    return result;
  }

  // ---- reading ---------------------------------------------------------------------------

  async get(number: string, trx: Trx = this.db): Promise<TicketRow> {
    const row = await trx.selectFrom('tickets').selectAll().where('number', '=', number).executeTakeFirst();
    if (!row) throw new TicketError(404, 'ticket_not_found', `no ticket ${number}`);
    return row;
  }

  async detail(number: string): Promise<TicketDetail> {
    const ticket = await this.get(number);
    const events = await this.db
      .selectFrom('ticket_events')
      .selectAll()
      .where('ticket_id', '=', ticket.id)
      .orderBy('ordinal')
      .execute();
    const deadlines = await this.db
      .selectFrom('ticket_deadlines')
      .selectAll()
      .where('ticket_id', '=', ticket.id)
      .orderBy('started_at')
      .execute();
    return { ticket, events, deadlines };
  }

  async list(filter: {
    status?: TicketStatus[];
    kind?: TicketKind;
    severity?: Severity;
    limit?: number;
  }): Promise<{ ticket: TicketRow; deadlines: TicketDeadlineRow[] }[]> {
    let q = this.db.selectFrom('tickets').selectAll();
    if (filter.status && filter.status.length > 0) q = q.where('status', 'in', filter.status);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    if (filter.severity) q = q.where('severity', '=', filter.severity);
    const tickets = await q
      .orderBy('opened_at', 'desc')
      .limit(filter.limit ?? 200)
      .execute();
    if (tickets.length === 0) return [];
    const deadlines = await this.db
      .selectFrom('ticket_deadlines')
      .selectAll()
      .where(
        'ticket_id',
        'in',
        tickets.map((t) => t.id),
      )
      .execute();
    return tickets.map((ticket) => ({
      ticket,
      deadlines: deadlines.filter((d) => d.ticket_id === ticket.id),
    }));
  }

  // ---- opening ---------------------------------------------------------------------------

  async open(input: OpenInput): Promise<TicketRow> {
    return this.write((trx) => this.openIn(trx, input));
  }

  /** Opens a ticket inside the caller's transaction. */
  async openIn(trx: Trx, input: OpenInput): Promise<TicketRow> {
    const nowIso = this.nowIso();
    const openedAt = input.openedAt ?? new Date(this.now());
    const number = await this.nextNumber(trx, input.kind, openedAt);
    const row: TicketRow = {
      id: randomUUID(),
      number,
      kind: input.kind,
      severity: input.severity,
      status: 'open',
      title: input.title,
      description: input.description ?? null,
      host: input.host ?? null,
      service: input.service ?? null,
      source: input.source,
      fingerprint: input.fingerprint ?? null,
      labels: JSON.stringify(input.labels ?? {}),
      assignee: input.assignee ?? null,
      created_by: input.actor,
      opened_at: openedAt.toISOString(),
      acknowledged_at: null,
      resolved_at: null,
      closed_at: null,
      confirmed_at: null,
      ended_at: null,
      escalation_step: 0,
      updated_at: nowIso,
    };
    await trx.insertInto('tickets').values(row).execute();
    await this.event(trx, row, 'opened', input.actor, `工单已创建：${input.title}`, {
      source: input.source,
      fingerprint: input.fingerprint ?? null,
    });
    await this.startClocks(trx, row, 'opened', openedAt);
    await this.hooks.onEvent?.(trx, row, 'opened', {});
    return row;
  }

  /**
   * A source (alert, check) says something is wrong: one ticket per fingerprint. The open ticket
   * gets a `repeated` event; a ticket resolved within `reopenWithinMs` is reopened; otherwise a
   * new ticket opens.
   */
  async raiseIn(
    trx: Trx,
    input: OpenInput & { fingerprint: string },
    reopenWithinMs: number,
    note: string,
  ): Promise<RaiseOutcome> {
    const open = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('fingerprint', '=', input.fingerprint)
      .where('status', 'in', ['open', 'acknowledged'])
      .orderBy('opened_at', 'desc')
      .executeTakeFirst();
    if (open) {
      await this.event(trx, open, 'repeated', input.actor, note, {});
      return { ticket: open, action: 'repeated' };
    }
    const since = new Date(this.now() - reopenWithinMs).toISOString();
    const recent = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('fingerprint', '=', input.fingerprint)
      .where('status', '=', 'resolved')
      .where('resolved_at', '>=', since)
      .orderBy('resolved_at', 'desc')
      .executeTakeFirst();
    if (recent) {
      const ticket = await this.transitionIn(
        trx,
        recent,
        'reopen',
        input.actor,
        `${note}（恢复后再次出现，重新打开）`,
      );
      return { ticket, action: 'reopened' };
    }
    return { ticket: await this.openIn(trx, input), action: 'opened' };
  }

  // ---- state changes ---------------------------------------------------------------------

  async transition(
    number: string,
    action: keyof typeof TRANSITIONS,
    actor: string,
    note?: string,
  ): Promise<TicketRow> {
    return this.write(async (trx) =>
      this.transitionIn(trx, await this.get(number, trx), action, actor, note),
    );
  }

  async transitionIn(
    trx: Trx,
    ticket: TicketRow,
    action: keyof typeof TRANSITIONS,
    actor: string,
    note?: string,
  ): Promise<TicketRow> {
    const t = TRANSITIONS[action]!;
    if (!t.from.includes(ticket.status as TicketStatus)) {
      throw new TicketError(
        409,
        'invalid_transition',
        `ticket ${ticket.number} is ${ticket.status}; "${action}" needs one of: ${t.from.join(', ')}`,
      );
    }
    const nowIso = this.nowIso();
    const patch: Partial<TicketRow> = { status: t.to, updated_at: nowIso };
    if (action === 'acknowledge') patch.acknowledged_at = nowIso;
    if (action === 'resolve') patch.resolved_at = nowIso;
    if (action === 'close') patch.closed_at = nowIso;
    if (action === 'reopen') {
      Object.assign(patch, { resolved_at: null, closed_at: null, escalation_step: 0 });
    }
    await trx.updateTable('tickets').set(patch).where('id', '=', ticket.id).execute();
    const updated: TicketRow = { ...ticket, ...patch };
    const verb = { acknowledge: '已确认响应', resolve: '已解决', close: '已关闭', reopen: '已重新打开' }[
      action
    ];
    await this.event(
      trx,
      updated,
      t.to === 'open' ? 'reopened' : t.to,
      actor,
      note ? `${verb}：${note}` : verb!,
      {
        from: ticket.status,
      },
    );
    if (action === 'acknowledge') await this.meetClocks(trx, updated, 'acknowledged', actor);
    if (action === 'resolve' || (action === 'close' && ticket.status !== 'resolved')) {
      // Resolving answers too: a response clock still running is met by the resolution.
      await this.meetClocks(trx, updated, 'acknowledged', actor);
      await this.meetClocks(trx, updated, 'resolved', actor);
    }
    if (action === 'reopen') {
      // The restore clock runs on: a fault that comes back was not restored.
      const resolvedClocks = clocksFor(this.policy, updated.kind as TicketKind)
        .filter((c) => c.metBy === 'resolved')
        .map((c) => c.clock);
      if (resolvedClocks.length > 0) {
        await trx
          .updateTable('ticket_deadlines')
          .set({ state: 'pending', met_at: null })
          .where('ticket_id', '=', ticket.id)
          .where('clock', 'in', resolvedClocks)
          .where('state', '=', 'met')
          .execute();
      }
      await this.hooks.onEvent?.(trx, updated, 'reopened', {});
    }
    if (action === 'resolve') await this.hooks.onEvent?.(trx, updated, 'resolved', { note: note ?? '' });
    return updated;
  }

  async comment(number: string, actor: string, text: string): Promise<TicketEventRow> {
    return this.write(async (trx) =>
      this.event(trx, await this.get(number, trx), 'comment', actor, text, {}),
    );
  }

  async assign(number: string, actor: string, assignee: string | null): Promise<TicketRow> {
    return this.write(async (trx) => {
      const ticket = await this.get(number, trx);
      await trx
        .updateTable('tickets')
        .set({ assignee, updated_at: this.nowIso() })
        .where('id', '=', ticket.id)
        .execute();
      await this.event(trx, ticket, 'assigned', actor, assignee ? `指派给 ${assignee}` : '取消指派', {
        assignee,
      });
      return { ...ticket, assignee };
    });
  }

  /**
   * change: the bureau confirmed the requirement research; the research clock is met and the
   * delivery clock (20 working days) starts at `at`.
   */
  async confirm(number: string, actor: string, at?: Date): Promise<TicketRow> {
    return this.milestone(number, actor, 'confirmed', at, '甲方已确认需求调研结果，交付时限开始计算');
  }

  /** force_majeure: the event ended; the notification clock (1 calendar day) starts at `at`. */
  async end(number: string, actor: string, at?: Date): Promise<TicketRow> {
    return this.milestone(number, actor, 'ended', at, '不可抗力事件已结束，告知时限开始计算');
  }

  private async milestone(
    number: string,
    actor: string,
    what: 'confirmed' | 'ended',
    at: Date | undefined,
    message: string,
  ): Promise<TicketRow> {
    return this.write(async (trx) => {
      const ticket = await this.get(number, trx);
      const needed = what === 'confirmed' ? 'change' : 'force_majeure';
      if (ticket.kind !== needed) {
        throw new TicketError(
          409,
          'invalid_action',
          `"${what === 'confirmed' ? 'confirm' : 'end'}" applies to ${needed} tickets, not ${ticket.kind}`,
        );
      }
      if ((what === 'confirmed' ? ticket.confirmed_at : ticket.ended_at) !== null) {
        throw new TicketError(409, 'already_done', `ticket ${number} is already ${what}`);
      }
      if (ticket.status === 'closed')
        throw new TicketError(409, 'invalid_transition', `ticket ${number} is closed`);
      const when = at ?? new Date(this.now());
      const patch =
        what === 'confirmed' ? { confirmed_at: when.toISOString() } : { ended_at: when.toISOString() };
      await trx
        .updateTable('tickets')
        .set({ ...patch, updated_at: this.nowIso() })
        .where('id', '=', ticket.id)
        .execute();
      const updated = { ...ticket, ...patch };
      await this.event(trx, updated, what, actor, message, { at: when.toISOString() });
      if (what === 'confirmed') await this.meetClocks(trx, updated, 'confirmed', actor, when);
      await this.startClocks(trx, updated, what, when);
      return updated;
    });
  }

  // ---- clocks ----------------------------------------------------------------------------

  private async startClocks(trx: Trx, ticket: TicketRow, on: ClockStart, at: Date): Promise<void> {
    for (const clock of clocksFor(this.policy, ticket.kind as TicketKind)) {
      if (clock.startsOn !== on) continue;
      const duration = durationOf(clock, ticket.severity as Severity);
      if (duration === undefined) continue;
      const due = dueAfter(at, duration, this.calendar);
      await trx
        .insertInto('ticket_deadlines')
        .values({
          ticket_id: ticket.id,
          clock: clock.clock,
          started_at: at.toISOString(),
          due_at: due.dueAt.toISOString(),
          unknown: due.unknownYears.length > 0 ? 1 : 0,
          unknown_years: due.unknownYears.length > 0 ? JSON.stringify(due.unknownYears) : null,
          state: 'pending',
          met_at: null,
          missed_at: null,
        })
        .onConflict((oc) => oc.columns(['ticket_id', 'clock']).doNothing())
        .execute();
      if (due.unknownYears.length > 0) {
        await this.event(
          trx,
          ticket,
          'deadline_unknown',
          'system',
          `${CLOCK_TITLE[clock.clock] ?? clock.clock}期限未知：${due.unknownYears.join('、')} 年节假日数据缺失，请在日历配置中补充`,
          { clock: clock.clock, unknownYears: due.unknownYears },
        );
      }
    }
  }

  private async meetClocks(
    trx: Trx,
    ticket: TicketRow,
    by: ClockEnd,
    actor: string,
    at?: Date,
  ): Promise<void> {
    const names = clocksFor(this.policy, ticket.kind as TicketKind)
      .filter((c) => c.metBy === by)
      .map((c) => c.clock);
    if (names.length === 0) return;
    const when = at ?? new Date(this.now());
    const rows = await trx
      .selectFrom('ticket_deadlines')
      .selectAll()
      .where('ticket_id', '=', ticket.id)
      .where('clock', 'in', names)
      .where('met_at', 'is', null)
      .execute();
    for (const d of rows) {
      const late = d.unknown === 0 && when.getTime() > Date.parse(d.due_at);
      const state = d.state === 'missed' || late ? 'missed' : 'met';
      await trx
        .updateTable('ticket_deadlines')
        .set({
          state,
          met_at: when.toISOString(),
          missed_at: d.missed_at ?? (late ? when.toISOString() : null),
        })
        .where('ticket_id', '=', d.ticket_id)
        .where('clock', '=', d.clock)
        .execute();
      const title = CLOCK_TITLE[d.clock] ?? d.clock;
      if (state === 'met') {
        await this.event(
          trx,
          ticket,
          'deadline_met',
          actor,
          `${title}时限已满足${d.unknown ? '（期限未知）' : ''}`,
          {
            clock: d.clock,
          },
        );
      } else if (d.state !== 'missed') {
        await this.event(trx, ticket, 'deadline_missed', actor, `${title}时限已超期（期限 ${d.due_at}）`, {
          clock: d.clock,
        });
      }
    }
  }

  /**
   * The periodic sweep: clocks past due and not met become missed (once, with an event and a
   * notification), and unknown deadlines are recomputed in case holiday data has arrived.
   * Returns how many clocks it marked missed.
   */
  async sweepDeadlines(): Promise<number> {
    const nowIso = this.nowIso();
    const unknown = await this.db
      .selectFrom('ticket_deadlines')
      .innerJoin('tickets', 'tickets.id', 'ticket_deadlines.ticket_id')
      .select([
        'ticket_deadlines.ticket_id',
        'ticket_deadlines.clock',
        'ticket_deadlines.started_at',
        'tickets.kind',
        'tickets.severity',
      ])
      .where('ticket_deadlines.unknown', '=', 1)
      .where('ticket_deadlines.met_at', 'is', null)
      .execute();
    for (const d of unknown) {
      const clock = clocksFor(this.policy, d.kind as TicketKind).find((c) => c.clock === d.clock);
      const duration = clock && durationOf(clock, d.severity as Severity);
      if (!duration) continue;
      const due = dueAfter(new Date(d.started_at), duration, this.calendar);
      if (due.unknownYears.length > 0) continue;
      await this.db
        .updateTable('ticket_deadlines')
        .set({ due_at: due.dueAt.toISOString(), unknown: 0, unknown_years: null })
        .where('ticket_id', '=', d.ticket_id)
        .where('clock', '=', d.clock)
        .execute();
    }

    const overdue = await this.db
      .selectFrom('ticket_deadlines')
      .selectAll()
      .where('state', '=', 'pending')
      .where('unknown', '=', 0)
      .where('met_at', 'is', null)
      .where('due_at', '<', nowIso)
      .execute();
    let missed = 0;
    for (const d of overdue) {
      await this.write(async (trx) => {
        const changed = await trx
          .updateTable('ticket_deadlines')
          .set({ state: 'missed', missed_at: nowIso })
          .where('ticket_id', '=', d.ticket_id)
          .where('clock', '=', d.clock)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        if (Number(changed.numUpdatedRows) === 0) return; // another replica got there first
        const ticket = await trx
          .selectFrom('tickets')
          .selectAll()
          .where('id', '=', d.ticket_id)
          .executeTakeFirstOrThrow();
        if (ticket.status === 'closed') return;
        missed++;
        await this.event(
          trx,
          ticket,
          'deadline_missed',
          'system',
          `${CLOCK_TITLE[d.clock] ?? d.clock}时限已超期（期限 ${d.due_at}）`,
          {
            clock: d.clock,
          },
        );
        await this.hooks.onEvent?.(trx, ticket, 'deadline_missed', { clock: d.clock, dueAt: d.due_at });
      });
    }
    return missed;
  }

  // ---- internals -------------------------------------------------------------------------

  /** Appends a timeline event. */
  async event(
    trx: Trx,
    ticket: Pick<TicketRow, 'id'>,
    type: string,
    actor: string,
    message: string,
    data: Record<string, unknown>,
  ): Promise<TicketEventRow> {
    const last = await trx
      .selectFrom('ticket_events')
      .select((eb) => eb.fn.max('ordinal').as('max'))
      .where('ticket_id', '=', ticket.id)
      .executeTakeFirst();
    const row: TicketEventRow = {
      id: randomUUID(),
      ticket_id: ticket.id,
      ordinal: Number(last?.max ?? 0) + 1,
      at: this.nowIso(),
      type,
      actor,
      message,
      data: Object.keys(data).length > 0 ? JSON.stringify(data) : null,
    };
    await trx.insertInto('ticket_events').values(row).execute();
    return row;
  }

  private async nextNumber(trx: Trx, kind: TicketKind, openedAt: Date): Promise<string> {
    const year = this.calendar.civilDate(openedAt).slice(0, 4);
    const key = `${KIND_PREFIX[kind]}-${year}`;
    const row = await trx
      .insertInto('ticket_sequences')
      .values({ key, last: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({ last: eb('ticket_sequences.last', '+', 1) })),
      )
      .returning('last')
      .executeTakeFirstOrThrow();
    return `${key}-${String(row.last).padStart(4, '0')}`;
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }
}
