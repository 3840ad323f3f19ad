/**
 * Alertmanager webhook payloads (version 4) into tickets. Each `alerts[]` entry is handled by its
 * own status; an alert occurrence is identified by (fingerprint, startsAt), so a redelivered
 * payload changes nothing. All entries of a payload are written in one transaction: the webhook
 * answers 2xx only after it committed.
 */
import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { SEVERITIES, type Severity, TICKET_KINDS, type TicketKind } from './policy.js';
import type { TicketService } from './service.js';

export const AlertmanagerAlert = Type.Object(
  {
    status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
    labels: Type.Record(Type.String(), Type.String()),
    annotations: Type.Record(Type.String(), Type.String(), { default: {} }),
    startsAt: Type.String({ minLength: 1 }),
    endsAt: Type.Optional(Type.String()),
    generatorURL: Type.Optional(Type.String()),
    fingerprint: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type AlertmanagerAlert = Static<typeof AlertmanagerAlert>;

export const AlertmanagerPayload = Type.Object(
  {
    version: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    receiver: Type.Optional(Type.String()),
    alerts: Type.Array(AlertmanagerAlert, { maxItems: 100_000 }),
  },
  { additionalProperties: true },
);
export type AlertmanagerPayload = Static<typeof AlertmanagerPayload>;

export interface AlertOutcome {
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** opened, repeated, reopened, duplicate, resolved, unknown_resolve, stale */
  action: string;
  ticket: string | null;
}

/** Alertmanager's own severities mapped onto the contract's. */
export function severityOf(label: string | undefined): Severity {
  if (label && (SEVERITIES as readonly string[]).includes(label.toUpperCase()))
    return label.toUpperCase() as Severity;
  if (label === 'critical' || label === 'page') return 'P1';
  if (label === 'info' || label === 'none') return 'P3';
  return 'P2';
}

export function kindOf(label: string | undefined): TicketKind {
  return label && (TICKET_KINDS as readonly string[]).includes(label) ? (label as TicketKind) : 'fault';
}

/** Alertmanager sends a fingerprint; a sender that does not gets one from the sorted labels. */
export function fingerprintOf(alert: AlertmanagerAlert): string {
  if (alert.fingerprint) return alert.fingerprint;
  const sorted = Object.keys(alert.labels)
    .sort()
    .map((k) => `${k}=${alert.labels[k]}`)
    .join('\u0000');
  return createHash('sha256').update(sorted).digest('hex').slice(0, 16);
}

export async function ingestAlerts(
  tickets: TicketService,
  payload: AlertmanagerPayload,
  reopenWithinMs: number,
  log: { info(obj: object, msg: string): void },
): Promise<AlertOutcome[]> {
  return tickets.write(async (trx) => {
    const outcomes: AlertOutcome[] = [];
    for (const alert of payload.alerts) {
      const fp = fingerprintOf(alert);
      const startsAt = new Date(alert.startsAt);
      const startsIso = Number.isNaN(startsAt.getTime()) ? alert.startsAt : startsAt.toISOString();
      const alertname = alert.labels.alertname ?? '(unnamed)';
      const nowIso = tickets.nowIso();
      const delivery = await trx
        .selectFrom('alert_deliveries')
        .selectAll()
        .where('fingerprint', '=', fp)
        .where('starts_at', '=', startsIso)
        .executeTakeFirst();
      const ticketNumber = async (id: string | null) =>
        id === null
          ? null
          : ((await trx.selectFrom('tickets').select('number').where('id', '=', id).executeTakeFirst())
              ?.number ?? null);

      if (alert.status === 'firing') {
        if (delivery) {
          // A redelivery, or a firing that arrives after its own resolve: nothing new.
          outcomes.push({
            fingerprint: fp,
            status: 'firing',
            action: delivery.status === 'resolved' ? 'stale' : 'duplicate',
            ticket: await ticketNumber(delivery.ticket_id),
          });
          continue;
        }
        const host = alert.labels.host ?? alert.labels.instance ?? null;
        const summary = alert.annotations.summary ?? alertname;
        const outcome = await tickets.raiseIn(
          trx,
          {
            kind: kindOf(alert.labels.kind),
            severity: severityOf(alert.labels.severity),
            title: summary,
            description: alert.annotations.description ?? null,
            host,
            service: alert.labels.service ?? alertname,
            source: 'alertmanager',
            fingerprint: `am:${fp}`,
            labels: alert.labels,
            actor: 'alertmanager',
            ...(Number.isNaN(startsAt.getTime()) ? {} : { openedAt: startsAt }),
          },
          reopenWithinMs,
          `告警 ${alertname} 再次触发（${startsIso}）：${summary}`,
        );
        await trx
          .insertInto('alert_deliveries')
          .values({
            fingerprint: fp,
            starts_at: startsIso,
            alertname,
            status: 'firing',
            ticket_id: outcome.ticket.id,
            received_at: nowIso,
            updated_at: nowIso,
          })
          .execute();
        outcomes.push({
          fingerprint: fp,
          status: 'firing',
          action: outcome.action,
          ticket: outcome.ticket.number,
        });
        continue;
      }

      // resolved
      if (!delivery) {
        log.info(
          { fingerprint: fp, alertname, startsAt: startsIso },
          'resolve for an alert never seen firing; recorded, no ticket',
        );
        await trx
          .insertInto('alert_deliveries')
          .values({
            fingerprint: fp,
            starts_at: startsIso,
            alertname,
            status: 'resolved',
            ticket_id: null,
            received_at: nowIso,
            updated_at: nowIso,
          })
          .execute();
        outcomes.push({ fingerprint: fp, status: 'resolved', action: 'unknown_resolve', ticket: null });
        continue;
      }
      if (delivery.status === 'resolved') {
        outcomes.push({
          fingerprint: fp,
          status: 'resolved',
          action: 'duplicate',
          ticket: await ticketNumber(delivery.ticket_id),
        });
        continue;
      }
      await trx
        .updateTable('alert_deliveries')
        .set({ status: 'resolved', updated_at: nowIso })
        .where('fingerprint', '=', fp)
        .where('starts_at', '=', startsIso)
        .execute();
      let action = 'resolved';
      if (delivery.ticket_id) {
        const ticket = await trx
          .selectFrom('tickets')
          .selectAll()
          .where('id', '=', delivery.ticket_id)
          .executeTakeFirst();
        if (ticket && (ticket.status === 'open' || ticket.status === 'acknowledged')) {
          await tickets.transitionIn(
            trx,
            ticket,
            'resolve',
            'alertmanager',
            `告警 ${alertname} 已恢复${alert.endsAt ? `（${alert.endsAt}）` : ''}`,
          );
        } else {
          action = 'already_resolved';
          if (ticket)
            await tickets.event(trx, ticket, 'repeated', 'alertmanager', `告警 ${alertname} 已恢复`, {});
        }
      }
      outcomes.push({
        fingerprint: fp,
        status: 'resolved',
        action,
        ticket: await ticketNumber(delivery.ticket_id),
      });
    }
    return outcomes;
  });
}
