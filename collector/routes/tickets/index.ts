/**
 * The ticket API (Bearer user token; viewers read only):
 *
 *   GET  /api/v1/tickets?status=active&kind=fault&severity=P1&limit=100
 *   POST /api/v1/tickets                              open a manual ticket
 *   GET  /api/v1/tickets/:number                      ticket, timeline, deadlines, notifications
 *   POST /api/v1/tickets/:number/{ack,resolve,close,reopen}   {note?}
 *   POST /api/v1/tickets/:number/comment              {text}
 *   POST /api/v1/tickets/:number/assign               {assignee}
 *   POST /api/v1/tickets/:number/confirm              {at?}  change: the bureau confirmed; delivery clock starts
 *   POST /api/v1/tickets/:number/end                  {at?}  force_majeure: the event ended; notify clock starts
 *   POST /api/v1/notifications/:id/requeue            send an unknown/failed message again (admin)
 */
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TicketDeadlineRow, TicketEventRow, TicketRow } from '../../store/ticket-tables.js';
import { formatDeadline } from '../../tickets/deadlines.js';
import type { Severity, TicketKind, TicketStatus } from '../../tickets/policy.js';
import { TicketError } from '../../tickets/service.js';
import { sendError } from '../errors.js';
import { requireUser } from './auth.js';
import {
  AssignBody,
  AtBody,
  CommentBody,
  ListQuery,
  NoteBody,
  NumberParams,
  OpenBody,
  STATUSES,
} from './schema.js';

export function ticketJson(ticket: TicketRow, deadlines: TicketDeadlineRow[], timeZone: string) {
  return {
    number: ticket.number,
    kind: ticket.kind,
    severity: ticket.severity,
    status: ticket.status,
    title: ticket.title,
    description: ticket.description,
    host: ticket.host,
    service: ticket.service,
    source: ticket.source,
    fingerprint: ticket.fingerprint,
    labels: JSON.parse(ticket.labels) as Record<string, string>,
    assignee: ticket.assignee,
    createdBy: ticket.created_by,
    openedAt: ticket.opened_at,
    acknowledgedAt: ticket.acknowledged_at,
    resolvedAt: ticket.resolved_at,
    closedAt: ticket.closed_at,
    confirmedAt: ticket.confirmed_at,
    endedAt: ticket.ended_at,
    escalationStep: ticket.escalation_step,
    deadlines: deadlines.map((d) => ({
      clock: d.clock,
      startedAt: d.started_at,
      dueAt: d.due_at,
      unknown: d.unknown === 1,
      unknownYears: d.unknown_years ? (JSON.parse(d.unknown_years) as number[]) : [],
      state: d.state,
      metAt: d.met_at,
      missedAt: d.missed_at,
      display: formatDeadline(d, timeZone),
    })),
  };
}

export function eventJson(e: TicketEventRow) {
  return {
    at: e.at,
    type: e.type,
    actor: e.actor,
    message: e.message,
    data: e.data ? JSON.parse(e.data) : null,
  };
}

function fail(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof TicketError) return sendError(reply, error.statusCode, error.code, error.message);
  throw error;
}

export default async function ticketRoutes(app: FastifyInstance): Promise<void> {
  requireUser(app);
  const { service, outbox, calendar } = app.ticketing;
  const tz = calendar.timeZone;

  const detail = async (number: string) => {
    const d = await service.detail(number);
    const notifications = await outbox.list(d.ticket.id);
    return {
      ...ticketJson(d.ticket, d.deadlines, tz),
      events: d.events.map(eventJson),
      notifications: notifications.map((n) => ({
        id: n.id,
        reason: n.reason,
        channel: n.channel,
        recipients: JSON.parse(n.recipients) as string[],
        state: n.state,
        attempts: n.attempts,
        lastError: n.last_error,
        sentAt: n.sent_at,
        nextAttemptAt: n.next_attempt_at,
      })),
    };
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/v1/tickets',
    { schema: { querystring: ListQuery } },
    async (request, reply) => {
      const q = request.query;
      let status: TicketStatus[] | undefined;
      if (q.status === 'active') status = ['open', 'acknowledged'];
      else if (q.status) {
        status = q.status.split(',').map((s) => s.trim()) as TicketStatus[];
        const bad = status.filter((s) => !(STATUSES as readonly string[]).includes(s));
        if (bad.length > 0)
          return sendError(
            reply,
            400,
            'invalid_status',
            `unknown status ${bad.join(', ')}: use ${STATUSES.join(', ')} or "active"`,
          );
      }
      const rows = await service.list({
        ...(status ? { status } : {}),
        ...(q.kind ? { kind: q.kind as TicketKind } : {}),
        ...(q.severity ? { severity: q.severity as Severity } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return { tickets: rows.map((r) => ticketJson(r.ticket, r.deadlines, tz)) };
    },
  );

  app.post<{ Body: Static<typeof OpenBody> }>(
    '/api/v1/tickets',
    { schema: { body: OpenBody } },
    async (request, reply) => {
      const b = request.body;
      // A complaint can be logged after the fact, never before it arrived.
      if (b.receivedAt && Date.parse(b.receivedAt) > app.collector.now() + 60_000) {
        return sendError(
          reply,
          400,
          'received_in_future',
          `receivedAt ${b.receivedAt} is in the future; give the time the request or fault was received`,
        );
      }
      const ticket = await service.open({
        kind: b.kind as TicketKind,
        severity: (b.severity ?? 'P3') as Severity,
        title: b.title,
        description: b.description ?? null,
        host: b.host ?? null,
        service: b.service ?? null,
        source: 'manual',
        labels: b.labels ?? {},
        assignee: b.assignee ?? null,
        actor: request.user!.name,
        ...(b.receivedAt ? { openedAt: new Date(b.receivedAt) } : {}),
      });
      return reply.code(201).send(await detail(ticket.number));
    },
  );

  app.get<{ Params: Static<typeof NumberParams> }>(
    '/api/v1/tickets/:number',
    { schema: { params: NumberParams } },
    async (request, reply) => {
      try {
        return await detail(request.params.number);
      } catch (error) {
        return fail(reply, error);
      }
    },
  );

  const actions = { ack: 'acknowledge', resolve: 'resolve', close: 'close', reopen: 'reopen' } as const;
  for (const [path, action] of Object.entries(actions)) {
    app.post<{ Params: Static<typeof NumberParams>; Body: Static<typeof NoteBody> }>(
      `/api/v1/tickets/:number/${path}`,
      { schema: { params: NumberParams, body: NoteBody } },
      async (request, reply) => {
        try {
          await service.transition(request.params.number, action, request.user!.name, request.body?.note);
          return await detail(request.params.number);
        } catch (error) {
          return fail(reply, error);
        }
      },
    );
  }

  app.post<{ Params: Static<typeof NumberParams>; Body: Static<typeof CommentBody> }>(
    '/api/v1/tickets/:number/comment',
    { schema: { params: NumberParams, body: CommentBody } },
    async (request, reply) => {
      try {
        await service.comment(request.params.number, request.user!.name, request.body.text);
        return await detail(request.params.number);
      } catch (error) {
        return fail(reply, error);
      }
    },
  );

  app.post<{ Params: Static<typeof NumberParams>; Body: Static<typeof AssignBody> }>(
    '/api/v1/tickets/:number/assign',
    { schema: { params: NumberParams, body: AssignBody } },
    async (request, reply) => {
      try {
        await service.assign(request.params.number, request.user!.name, request.body.assignee);
        return await detail(request.params.number);
      } catch (error) {
        return fail(reply, error);
      }
    },
  );

  for (const milestone of ['confirm', 'end'] as const) {
    app.post<{ Params: Static<typeof NumberParams>; Body: Static<typeof AtBody> }>(
      `/api/v1/tickets/:number/${milestone}`,
      { schema: { params: NumberParams, body: AtBody } },
      async (request, reply) => {
        try {
          const at = request.body?.at ? new Date(request.body.at) : undefined;
          await service[milestone](request.params.number, request.user!.name, at);
          return await detail(request.params.number);
        } catch (error) {
          return fail(reply, error);
        }
      },
    );
  }

  app.post<{ Params: { id: string } }>('/api/v1/notifications/:id/requeue', async (request, reply) => {
    if (request.user!.role !== 'admin')
      return sendError(
        reply,
        403,
        'forbidden',
        'only an admin may resend a notification whose delivery is unknown',
      );
    const ok = await outbox.requeue(request.params.id);
    if (!ok)
      return sendError(reply, 404, 'not_found', `no unknown or failed notification ${request.params.id}`);
    return { requeued: request.params.id };
  });
}
