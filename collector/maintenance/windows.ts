/**
 * Maintenance windows: one-off or recurring, in an IANA time zone. While one is active, check
 * tickets and notifications for the hosts and services it covers are held back and recorded as
 * suppressed (maintenance_suppressions), and the window itself stays in the store (soft delete)
 * for the availability report.
 *
 * Recurrence is RRULE-lite: `FREQ=DAILY` or `FREQ=WEEKLY;BYDAY=MO,SA`, optionally `INTERVAL=n`;
 * `until` (a local date) ends it. A window runs from its local start time to the local wall-clock
 * time `durationMinutes` later, so "Sunday 01:00–05:00" stays 01:00–05:00 on the night a
 * daylight-saving change makes it 3 or 5 real hours long.
 */
import { randomUUID } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { Kysely, Transaction } from 'kysely';
import { checkTimeZone } from '../../lib/calendar/index.js';
import type { Store } from '../store/store.js';
import { type MaintenanceWindowRow, type TicketDatabase, ticketDb } from '../store/ticket-tables.js';
import { civilDayNumber, localToInstant, parseLocalDateTime, weekdayOf } from './zoned-time.js';

export const MaintenanceWindowInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** Host names (agent names / the `host` label); `*` for all. */
    hosts: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 1000 }),
    /** Check names or alert names (a trailing `*` matches a prefix); empty for everything. */
    services: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { default: [], maxItems: 1000 }),
    /** @defaultValue "Asia/Shanghai" */
    timeZone: Type.String({ default: 'Asia/Shanghai', minLength: 1 }),
    /** Local start of the (first) occurrence. @example "2026-05-16T01:00" */
    start: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$' }),
    durationMinutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }),
    /** @example "FREQ=WEEKLY;BYDAY=SA,SU" */
    recurrence: Type.Optional(Type.String({ maxLength: 200 })),
    /** Last local date a recurring window may start on. */
    until: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })),
    reason: Type.String({ default: '', maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export type MaintenanceWindowInput = Static<typeof MaintenanceWindowInput>;

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

export interface Recurrence {
  freq: 'DAILY' | 'WEEKLY';
  interval: number;
  /** Weekday numbers, 0 = Sunday; empty = the start's weekday (WEEKLY). */
  byDay: number[];
}

export function parseRecurrence(text: string): Recurrence {
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    const [k, v] = part.split('=');
    if (!k || v === undefined) throw new Error(`invalid recurrence "${text}": expected KEY=VALUE;…`);
    parts.set(k.trim().toUpperCase(), v.trim().toUpperCase());
  }
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY') {
    throw new Error(`invalid recurrence "${text}": FREQ must be DAILY or WEEKLY`);
  }
  const interval = Number(parts.get('INTERVAL') ?? '1');
  if (!Number.isInteger(interval) || interval < 1 || interval > 52) {
    throw new Error(`invalid recurrence "${text}": INTERVAL must be 1–52`);
  }
  const byDay = (parts.get('BYDAY') ?? '')
    .split(',')
    .filter((d) => d !== '')
    .map((d) => {
      const i = WEEKDAYS.indexOf(d);
      if (i < 0) throw new Error(`invalid recurrence "${text}": BYDAY takes ${WEEKDAYS.join(',')}`);
      return i;
    });
  for (const k of parts.keys()) {
    if (!['FREQ', 'INTERVAL', 'BYDAY'].includes(k))
      throw new Error(
        `invalid recurrence "${text}": ${k} is not supported (FREQ, INTERVAL, BYDAY; use "until" for the end)`,
      );
  }
  return { freq, interval, byDay };
}

/** The window's shape, parsed once. */
export interface WindowShape {
  timeZone: string;
  startDay: number;
  startMinutes: number;
  durationMinutes: number;
  recurrence: Recurrence | null;
  untilDay: number | null;
}

export function shapeOf(
  row: Pick<
    MaintenanceWindowRow,
    'time_zone' | 'starts_local' | 'duration_minutes' | 'recurrence' | 'until_local'
  >,
): WindowShape {
  const start = parseLocalDateTime(row.starts_local);
  return {
    timeZone: row.time_zone,
    startDay: start.day,
    startMinutes: start.minutes,
    durationMinutes: row.duration_minutes,
    recurrence: row.recurrence ? parseRecurrence(row.recurrence) : null,
    untilDay: row.until_local ? civilDayNumber(row.until_local) : null,
  };
}

function occursOn(shape: WindowShape, day: number): boolean {
  if (day < shape.startDay) return false;
  const r = shape.recurrence;
  if (r === null) return day === shape.startDay;
  if (shape.untilDay !== null && day > shape.untilDay) return false;
  if (r.freq === 'DAILY') return (day - shape.startDay) % r.interval === 0;
  const days = r.byDay.length > 0 ? r.byDay : [weekdayOf(shape.startDay)];
  if (!days.includes(weekdayOf(day))) return false;
  // Weeks counted from the week (Sunday-based) the window starts in.
  const week = (d: number) => Math.floor((d - weekdayOf(d)) / 7);
  return (week(day) - week(shape.startDay)) % r.interval === 0;
}

/** The occurrence active at `instant`, as [start, end) in ms, or null. */
export function activeOccurrence(shape: WindowShape, instant: number): { start: number; end: number } | null {
  const today = Math.floor((instant + 14 * 3_600_000) / 86_400_000) + 1; // upper bound for any zone
  const spanDays = Math.ceil((shape.startMinutes + shape.durationMinutes) / 1440) + 2;
  for (let day = today; day >= today - spanDays; day--) {
    if (!occursOn(shape, day)) continue;
    const start = localToInstant(day, shape.startMinutes, shape.timeZone);
    const endTotal = shape.startMinutes + shape.durationMinutes;
    const end = localToInstant(day + Math.floor(endTotal / 1440), endTotal % 1440, shape.timeZone);
    if (instant >= start && instant < end) return { start, end };
  }
  return null;
}

export function matchesService(patterns: string[], service: string | null): boolean {
  if (patterns.length === 0) return true;
  if (service === null) return false;
  return patterns.some((p) => (p.endsWith('*') ? service.startsWith(p.slice(0, -1)) : p === service));
}

export interface MaintenanceWindow {
  id: string;
  name: string;
  hosts: string[];
  services: string[];
  timeZone: string;
  start: string;
  durationMinutes: number;
  recurrence: string | null;
  until: string | null;
  reason: string;
  createdBy: string;
  createdAt: string;
  deletedAt: string | null;
}

function toWindow(row: MaintenanceWindowRow): MaintenanceWindow {
  return {
    id: row.id,
    name: row.name,
    hosts: JSON.parse(row.hosts) as string[],
    services: JSON.parse(row.services) as string[],
    timeZone: row.time_zone,
    start: row.starts_local,
    durationMinutes: row.duration_minutes,
    recurrence: row.recurrence,
    until: row.until_local,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  };
}

/** The store, or the transaction a caller is in (SQLite has one connection: never query beside it). */
type Queryable = Kysely<TicketDatabase> | Transaction<TicketDatabase>;

/** The windows and the held-back record, over the store. */
export class MaintenanceCalendar {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async create(input: MaintenanceWindowInput, createdBy: string): Promise<MaintenanceWindow> {
    const timeZone = checkTimeZone(input.timeZone);
    parseLocalDateTime(input.start);
    if (input.recurrence) parseRecurrence(input.recurrence);
    if (input.until && !input.recurrence) throw new Error('"until" needs a recurrence');
    const row: MaintenanceWindowRow = {
      id: randomUUID(),
      name: input.name,
      hosts: JSON.stringify(input.hosts),
      services: JSON.stringify(input.services ?? []),
      time_zone: timeZone,
      starts_local: input.start,
      duration_minutes: input.durationMinutes,
      recurrence: input.recurrence ?? null,
      until_local: input.until ?? null,
      reason: input.reason ?? '',
      created_by: createdBy,
      created_at: new Date(this.now()).toISOString(),
      deleted_at: null,
    };
    await ticketDb(this.store).insertInto('maintenance_windows').values(row).execute();
    return toWindow(row);
  }

  async list(includeDeleted = false): Promise<MaintenanceWindow[]> {
    let q = ticketDb(this.store).selectFrom('maintenance_windows').selectAll();
    if (!includeDeleted) q = q.where('deleted_at', 'is', null);
    return (await q.orderBy('created_at').execute()).map(toWindow);
  }

  /** Soft delete: the report still lists the window. Returns false when there is no such window. */
  async delete(id: string): Promise<boolean> {
    const r = await ticketDb(this.store)
      .updateTable('maintenance_windows')
      .set({ deleted_at: new Date(this.now()).toISOString() })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The window covering (host, service) at `at`, with the end of its occurrence, or null. */
  async covering(
    host: string | null,
    service: string | null,
    at: number = this.now(),
    db: Queryable = ticketDb(this.store),
  ): Promise<{ window: MaintenanceWindow; until: number } | null> {
    if (host === null) return null;
    const rows = await db
      .selectFrom('maintenance_windows')
      .selectAll()
      .where('deleted_at', 'is', null)
      .execute();
    for (const row of rows) {
      const w = toWindow(row);
      if (!w.hosts.includes('*') && !w.hosts.includes(host)) continue;
      if (!matchesService(w.services, service)) continue;
      const occurrence = activeOccurrence(shapeOf(row), at);
      if (occurrence) return { window: w, until: occurrence.end };
    }
    return null;
  }

  async recordSuppression(
    windowId: string,
    source: 'check' | 'alert' | 'notification',
    host: string | null,
    service: string | null,
    detail: string,
    db: Queryable = ticketDb(this.store),
  ): Promise<void> {
    await db
      .insertInto('maintenance_suppressions')
      .values({
        id: randomUUID(),
        window_id: windowId,
        at: new Date(this.now()).toISOString(),
        source,
        host,
        service,
        detail,
      })
      .execute();
  }

  async suppressions(windowId?: string) {
    let q = ticketDb(this.store).selectFrom('maintenance_suppressions').selectAll();
    if (windowId) q = q.where('window_id', '=', windowId);
    return q.orderBy('at').execute();
  }
}
