/**
 * The tables of tickets, people, notifications and maintenance windows (migration
 * 0002_tickets_notifications_maintenance). Kept beside schema.ts rather than in it so that the
 * ticket modules see them through {@link ticketDb} and the rest of the store is unchanged.
 *
 * Same conventions as schema.ts: ids are UUIDs, times ISO 8601 UTC text, JSON as text, booleans
 * as 0/1 integers — portable to PostgreSQL.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';

export interface UsersTable {
  id: string;
  name: string;
  /** admin | engineer | viewer */
  role: string;
  token_hash: string;
  token_prefix: string;
  created_at: string;
}

/** One row per (prefix, year): the last number handed out, e.g. `INC-2026` → 17. */
export interface TicketSequencesTable {
  key: string;
  last: number;
}

export interface TicketsTable {
  id: string;
  /** Readable and unique: `INC-2026-0001`. */
  number: string;
  kind: string;
  severity: string;
  /** open | acknowledged | resolved | closed */
  status: string;
  title: string;
  description: string | null;
  host: string | null;
  service: string | null;
  /** alertmanager | check | manual */
  source: string;
  /** What deduplicates: `am:<fingerprint>`, `check:<agent>/<check>/<target>`; null for manual. */
  fingerprint: string | null;
  /** JSON object of labels (alert labels, check target…). */
  labels: string;
  assignee: string | null;
  created_by: string;
  opened_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  /** change: when the bureau confirmed the research (starts the delivery clock). */
  confirmed_at: string | null;
  /** force_majeure: when the event ended (starts the notification clock). */
  ended_at: string | null;
  /** Escalation steps already notified (0 = only the first receivers). */
  escalation_step: number;
  updated_at: string;
}

export interface TicketEventsTable {
  id: string;
  ticket_id: string;
  /** Order within the ticket, from 1. */
  ordinal: number;
  at: string;
  /** opened, acknowledged, resolved, closed, reopened, comment, assigned, repeated, confirmed, ended, notification_queued, notification_sent, notification_failed, notification_unknown, notification_suppressed, deadline_met, deadline_missed, escalated */
  type: string;
  actor: string;
  message: string;
  /** JSON, or null. */
  data: string | null;
}

export interface TicketDeadlinesTable {
  ticket_id: string;
  /** respond, restore, answer, research, delivery, notify, resolve… (per kind, from the policy) */
  clock: string;
  started_at: string;
  /** The instant it is due; provisional when unknown = 1. */
  due_at: string;
  /** 1 when the count reaches into a year without holiday data: shown as 未知, never judged. */
  unknown: number;
  /** JSON array of the years without data, or null. */
  unknown_years: string | null;
  /** pending | met | missed */
  state: string;
  met_at: string | null;
  missed_at: string | null;
}

/** One row per alert occurrence: idempotency of the Alertmanager webhook. */
export interface AlertDeliveriesTable {
  fingerprint: string;
  starts_at: string;
  alertname: string;
  /** firing | resolved */
  status: string;
  ticket_id: string | null;
  received_at: string;
  updated_at: string;
}

/** The check evaluator's state per (agent, check, target). */
export interface CheckStatesTable {
  agent_id: string;
  check: string;
  /** '' when the result has no target. */
  target: string;
  status: string;
  /** Consecutive results at or above the opening threshold. */
  bad_streak: number;
  /** Consecutive OK results. */
  ok_streak: number;
  ticket_id: string | null;
  last_seq: number;
  updated_at: string;
}

/** Per agent, the last check-result seq the evaluator has processed. */
export interface CheckEvaluatorCursorsTable {
  agent_id: string;
  last_seq: number;
}

export interface OutboxTable {
  id: string;
  /** Makes enqueueing idempotent: ticket, event, receiver, recipient set. */
  dedupe_key: string;
  ticket_id: string | null;
  /** The ticket event that caused it (opened, resolved, escalated…). */
  reason: string;
  /** Channel instance name from the notification policy. */
  channel: string;
  /** JSON array: who still has to receive it (narrowed after a partial failure). */
  recipients: string;
  subject: string;
  text: string;
  markdown: string | null;
  /** JSON object, or null. */
  template_params: string | null;
  severity: string;
  /** pending | sending | sent | failed | unknown | suppressed */
  state: string;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  /** When set, the message is held until then (maintenance window) and dropped if the ticket is resolved by then. */
  held_until: string | null;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

export interface MaintenanceWindowsTable {
  id: string;
  name: string;
  /** JSON array of host names (`*` for every host). */
  hosts: string;
  /** JSON array of services: check names or alert names (empty = everything on the hosts). */
  services: string;
  time_zone: string;
  /** Local wall-clock start `YYYY-MM-DDTHH:mm` of the first occurrence. */
  starts_local: string;
  duration_minutes: number;
  /** RRULE-lite (`FREQ=WEEKLY;BYDAY=SA,SU`), or null for a one-off window. */
  recurrence: string | null;
  /** Local date `YYYY-MM-DD` after which a recurring window stops, or null. */
  until_local: string | null;
  reason: string;
  created_by: string;
  created_at: string;
  /** Windows are never deleted: the availability report lists them. */
  deleted_at: string | null;
}

/** What a maintenance window held back: never lost, listed for the report. */
export interface MaintenanceSuppressionsTable {
  id: string;
  window_id: string;
  at: string;
  /** check | alert | notification */
  source: string;
  host: string | null;
  service: string | null;
  detail: string;
}

// A type alias, not an interface: withTables() needs an index-signature-compatible record.
export type TicketTables = {
  users: UsersTable;
  ticket_sequences: TicketSequencesTable;
  tickets: TicketsTable;
  ticket_events: TicketEventsTable;
  ticket_deadlines: TicketDeadlinesTable;
  alert_deliveries: AlertDeliveriesTable;
  check_states: CheckStatesTable;
  check_evaluator_cursors: CheckEvaluatorCursorsTable;
  outbox: OutboxTable;
  maintenance_windows: MaintenanceWindowsTable;
  maintenance_suppressions: MaintenanceSuppressionsTable;
};

export type TicketDatabase = Database & TicketTables;
export type TicketRow = Selectable<TicketsTable>;
export type TicketEventRow = Selectable<TicketEventsTable>;
export type TicketDeadlineRow = Selectable<TicketDeadlinesTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type MaintenanceWindowRow = Selectable<MaintenanceWindowsTable>;
export type UserRow = Selectable<UsersTable>;

/** The store's database with the ticket tables visible to the type checker. */
export function ticketDb(store: Store): Kysely<TicketDatabase> {
  return store.db.withTables<TicketTables>();
}
