/**
 * The ticket, notification and calendar families of the collector's /metrics. Values come from
 * the store (refreshed by each sweep, so a scrape costs no query) and from in-memory counters.
 * `creditops_ticket_deadline_missed_total` counts missed clocks in the store: a clock never
 * stops being missed, so the count only grows, across restarts too.
 */

import type { Kysely } from 'kysely';
import { formatLabels, formatValue } from '../../lib/exposition.js';
import type { Labels } from '../../lib/metrics.js';
import { OUTBOX_STATES } from '../notify/outbox.js';
import type { TicketDatabase } from '../store/ticket-tables.js';
import { SEVERITIES, TICKET_KINDS } from './policy.js';

export const TICKET_FAMILIES = {
  creditops_ticket_open: {
    type: 'gauge',
    help: 'Tickets open or acknowledged (not yet resolved), by kind and severity.',
    exclusive: true,
  },
  creditops_ticket_deadline_missed_total: {
    type: 'counter',
    help: 'Ticket deadline clocks missed (breaches of the contract), by kind and clock.',
    exclusive: true,
  },
  creditops_ticket_deadline_unknown: {
    type: 'gauge',
    help: 'Running ticket deadlines that reach into a year without holiday data (shown as unknown).',
    exclusive: true,
  },
  creditops_notify_outbox_messages: {
    type: 'gauge',
    help: 'Notification outbox messages by state; unknown ones need a person to check whether they arrived.',
    exclusive: true,
  },
  creditops_alertmanager_alerts_received_total: {
    type: 'counter',
    help: 'Alerts received on the Alertmanager webhook, by status, redeliveries included.',
    exclusive: true,
  },
  creditops_calendar_next_year_missing: {
    type: 'gauge',
    help: 'Whether holiday data is missing for the current year, or from December on for the next (1) or not (0).',
    exclusive: true,
  },
} as const;

export type TicketFamilyName = keyof typeof TICKET_FAMILIES;

export class TicketMetrics {
  private open = new Map<string, number>();
  private missed = new Map<string, number>();
  private unknownDeadlines = 0;
  private outbox = new Map<string, number>(OUTBOX_STATES.map((s) => [s, 0]));
  readonly alertsReceived = { firing: 0, resolved: 0 };
  calendarMissing = 0;

  async refresh(db: Kysely<TicketDatabase>): Promise<void> {
    const open = await db
      .selectFrom('tickets')
      .select(['kind', 'severity', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['open', 'acknowledged'])
      .groupBy(['kind', 'severity'])
      .execute();
    this.open = new Map(open.map((r) => [`${r.kind}\u0000${r.severity}`, Number(r.n)]));
    const missed = await db
      .selectFrom('ticket_deadlines')
      .innerJoin('tickets', 'tickets.id', 'ticket_deadlines.ticket_id')
      .select(['tickets.kind', 'ticket_deadlines.clock', (eb) => eb.fn.countAll<number>().as('n')])
      .where('ticket_deadlines.state', '=', 'missed')
      .groupBy(['tickets.kind', 'ticket_deadlines.clock'])
      .execute();
    this.missed = new Map(missed.map((r) => [`${r.kind}\u0000${r.clock}`, Number(r.n)]));
    const unknown = await db
      .selectFrom('ticket_deadlines')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('unknown', '=', 1)
      .where('met_at', 'is', null)
      .executeTakeFirst();
    this.unknownDeadlines = Number(unknown?.n ?? 0);
    const outbox = await db
      .selectFrom('outbox')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    this.outbox = new Map<string, number>(OUTBOX_STATES.map((s) => [s, 0]));
    for (const r of outbox) this.outbox.set(r.state, Number(r.n));
  }

  lines(): Map<TicketFamilyName, string[]> {
    const out = new Map<TicketFamilyName, string[]>();
    const add = (family: TicketFamilyName, labels: Labels, value: number) => {
      const lines = out.get(family) ?? [];
      out.set(family, lines);
      lines.push(`${family}${formatLabels(labels)} ${formatValue(value)}`);
    };
    // Every kind × severity, so a dashboard sees 0 rather than no series.
    for (const kind of TICKET_KINDS)
      for (const severity of SEVERITIES)
        add('creditops_ticket_open', { kind, severity }, this.open.get(`${kind}\u0000${severity}`) ?? 0);
    for (const [key, n] of [...this.missed].sort()) {
      const [kind, clock] = key.split('\u0000') as [string, string];
      add('creditops_ticket_deadline_missed_total', { clock, kind }, n);
    }
    add('creditops_ticket_deadline_unknown', {}, this.unknownDeadlines);
    for (const [state, n] of this.outbox) add('creditops_notify_outbox_messages', { state }, n);
    add('creditops_alertmanager_alerts_received_total', { status: 'firing' }, this.alertsReceived.firing);
    add('creditops_alertmanager_alerts_received_total', { status: 'resolved' }, this.alertsReceived.resolved);
    add('creditops_calendar_next_year_missing', {}, this.calendarMissing);
    return out;
  }
}
