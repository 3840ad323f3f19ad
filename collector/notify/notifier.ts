/**
 * Turns ticket events into outbox messages: routes by severity, kind and labels, renders the
 * Chinese templates, defers for quiet hours and holds back for maintenance windows. It runs
 * inside the ticket's transaction (TicketHooks.onEvent), so the messages are as durable as the
 * event that caused them.
 */
import type { Logger } from 'pino';
import type { MaintenanceCalendar } from '../maintenance/windows.js';
import type { TicketRow } from '../store/ticket-tables.js';
import { formatLocal } from '../tickets/deadlines.js';
import type { NotifiableEvent, TicketHooks, TicketService, Trx } from '../tickets/service.js';
import type { Outbox } from './outbox.js';
import type { NotificationPolicy, Receiver, Route } from './policy.js';
import { quietUntil, type RoutableTicket, routesFor } from './routing.js';
import { renderNotification } from './templates.js';

export interface NotifierOptions {
  policy: NotificationPolicy;
  outbox: Outbox;
  maintenance: MaintenanceCalendar;
  tickets: TicketService;
  publicUrl: string;
  now: () => number;
  log: Logger;
}

export function routable(ticket: TicketRow): RoutableTicket {
  const labels = JSON.parse(ticket.labels) as Record<string, string>;
  return {
    severity: ticket.severity,
    kind: ticket.kind,
    labels: {
      ...labels,
      ...(ticket.host ? { host: ticket.host } : {}),
      ...(ticket.service ? { service: ticket.service } : {}),
    },
  };
}

export class Notifier {
  constructor(private readonly o: NotifierOptions) {}

  hooks(): TicketHooks {
    return {
      onEvent: (trx, ticket, event, detail) => this.onEvent(trx, ticket, event, detail),
      afterCommit: () => this.o.outbox.kick(),
    };
  }

  async onEvent(
    trx: Trx,
    ticket: TicketRow,
    event: NotifiableEvent,
    detail: Record<string, unknown>,
  ): Promise<void> {
    if (!this.o.policy.events.includes(event)) return;
    const routes = routesFor(this.o.policy, routable(ticket));
    if (routes.length === 0) {
      if (event === 'opened')
        await this.o.tickets.event(
          trx,
          ticket,
          'notification_unrouted',
          'system',
          '没有匹配的通知路由，未发送通知',
          {},
        );
      return;
    }
    const receivers: { route: Route; receiver: Receiver; index: number }[] =
      event === 'escalated'
        ? ((detail.receivers as { route: Route; receiver: Receiver; index: number }[] | undefined) ?? [])
        : routes.flatMap((route) => route.receivers.map((receiver, index) => ({ route, receiver, index })));
    if (receivers.length === 0) return;

    const now = this.o.now();
    const nowIso = new Date(now).toISOString();
    const deadlines = await trx
      .selectFrom('ticket_deadlines')
      .selectAll()
      .where('ticket_id', '=', ticket.id)
      .execute();
    const timeZone = this.o.tickets.calendar.timeZone;
    const content = renderNotification(ticket, event, {
      publicUrl: this.o.publicUrl,
      timeZone,
      deadlines,
      ...(typeof detail.step === 'number' ? { step: detail.step } : {}),
      ...(typeof detail.note === 'string' && detail.note ? { note: detail.note } : {}),
      ...(typeof detail.clock === 'string' ? { clock: detail.clock } : {}),
    });

    // Held back while a window covers the ticket; at the window's end the outbox sends only what
    // still matters (nothing, if the ticket was resolved meanwhile — its recovery included).
    const held = await this.o.maintenance.covering(ticket.host, ticket.service, now, trx);
    if (held) {
      await this.o.maintenance.recordSuppression(
        held.window.id,
        'notification',
        ticket.host,
        ticket.service,
        `${ticket.number} ${event}`,
        trx,
      );
      await this.o.tickets.event(
        trx,
        ticket,
        'notification_held',
        'system',
        `维护窗口「${held.window.name}」期间通知暂缓至 ${formatLocal(new Date(held.until), timeZone)}；届时工单仍未解决才发送`,
        { windowId: held.window.id, until: new Date(held.until).toISOString() },
      );
    }
    for (const { route, receiver, index } of receivers) {
      const quiet = quietUntil(route.quietHours ?? this.o.policy.quietHours, ticket.severity, now);
      if (quiet !== null && !held) {
        await this.o.tickets.event(
          trx,
          ticket,
          'notification_deferred',
          'system',
          `静默时段，发往 ${receiver.channel} 的通知推迟至 ${formatLocal(new Date(quiet), timeZone)}`,
          { channel: receiver.channel, until: new Date(quiet).toISOString() },
        );
      }
      await this.o.outbox.enqueueIn(trx, {
        dedupeKey: `${ticket.id}:${event}:${typeof detail.step === 'number' ? detail.step : ''}:${nowIso}:${route.name}:${index}:${receiver.channel}`,
        ticketId: ticket.id,
        reason: event,
        channel: receiver.channel,
        recipients: receiver.to,
        ...content,
        severity: ticket.severity,
        ...(quiet !== null ? { notBefore: quiet } : {}),
        ...(held ? { heldUntil: held.until } : {}),
      });
      await this.o.tickets.event(
        trx,
        ticket,
        'notification_queued',
        'system',
        `通知已排队（${receiver.channel} → ${receiver.to.join('、') || '群机器人'}）`,
        {
          channel: receiver.channel,
          reason: event,
        },
      );
    }
  }

  /**
   * Escalation: an unacknowledged (open) ticket goes to the next step's receivers once the
   * step's delay since it was (re)opened has passed, one step at a time, until acknowledged.
   * Returns how many steps were taken.
   */
  async escalate(): Promise<number> {
    const svc = this.o.tickets;
    const open = await svc.db.selectFrom('tickets').selectAll().where('status', '=', 'open').execute();
    let taken = 0;
    for (const ticket of open) {
      const routes = routesFor(this.o.policy, routable(ticket));
      const steps = routes
        .flatMap((route) => route.escalation.map((s) => ({ route, ...s })))
        .sort((a, b) => a.afterMinutes - b.afterMinutes);
      if (steps.length <= ticket.escalation_step) continue;
      const reopened = await svc.db
        .selectFrom('ticket_events')
        .select((eb) => eb.fn.max('at').as('at'))
        .where('ticket_id', '=', ticket.id)
        .where('type', '=', 'reopened')
        .executeTakeFirst();
      const since = Date.parse((reopened?.at as string | null) ?? ticket.opened_at);
      let step = ticket.escalation_step;
      while (step < steps.length && this.o.now() - since >= steps[step]!.afterMinutes * 60_000) {
        const s = steps[step]!;
        const current = step;
        const done = await svc.write(async (trx) => {
          const r = await trx
            .updateTable('tickets')
            .set({ escalation_step: current + 1 })
            .where('id', '=', ticket.id)
            .where('escalation_step', '=', current)
            .where('status', '=', 'open')
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) return false;
          await svc.event(
            trx,
            ticket,
            'escalated',
            'system',
            `未在 ${s.afterMinutes} 分钟内确认，升级至第 ${current + 1} 级：${s.receivers.map((x) => `${x.channel} → ${x.to.join('、') || '群机器人'}`).join('；')}`,
            {
              step: current + 1,
            },
          );
          await this.onEvent(trx, { ...ticket, escalation_step: current + 1 }, 'escalated', {
            step: current + 1,
            receivers: s.receivers.map((receiver, index) => ({
              route: s.route,
              receiver,
              index: 1000 * (current + 1) + index,
            })),
          });
          return true;
        });
        if (!done) break;
        taken++;
        step++;
      }
    }
    return taken;
  }
}
