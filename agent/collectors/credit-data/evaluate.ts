/**
 * Pure functions that turn the rows of the configured dataset queries into per-department figures:
 * no I/O, so they are tested on inline rows and reused by the bench.
 */
import type { WorkingDayCalendar } from '../../../lib/calendar/index.js';
import { checkResidentId, checkUscc } from '../../../lib/identifiers/index.js';

export type Row = Record<string, unknown>;

export const INVALID_REASONS = ['code', 'mandatory', 'date', 'duplicate', 'fine'] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export interface RecordFigures {
  /** Records submitted in the month (rows of the records query). */
  submitted: number;
  valid: number;
  pilot: number;
  invalid: Record<InvalidReason, number>;
  mandatoryPresent: number;
  mandatoryRequired: number;
  /** Published records plus unpublished ones past their deadline: the base of the on-time share. */
  timelyBase: number;
  onTime: number;
  overdue: number;
  /** Largest lag in working days among published records (0 when none). */
  maxLagWorkingDays: number;
  /** Up to 5 overdue decision numbers, for the verdict's details. */
  overdueSamples: string[];
  /** Records whose lag spans a year the calendar has no holiday data for: not judged. */
  undetermined: number;
}

export function emptyFigures(): RecordFigures {
  return {
    submitted: 0,
    valid: 0,
    pilot: 0,
    invalid: { code: 0, mandatory: 0, date: 0, duplicate: 0, fine: 0 },
    mandatoryPresent: 0,
    mandatoryRequired: 0,
    timelyBase: 0,
    onTime: 0,
    overdue: 0,
    maxLagWorkingDays: 0,
    overdueSamples: [],
    undetermined: 0,
  };
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

const QUARTER_HOUR = 900_000;
const civilCache = new WeakMap<WorkingDayCalendar, Map<number, string>>();

/**
 * The civil date of an instant in the calendar's zone, cached per quarter hour: every zone offset
 * is a multiple of 15 minutes, so local midnight always falls on a quarter-hour boundary, and a
 * million records need a few thousand time-zone conversions instead of a million.
 */
export function civilDateOfInstant(ms: number, calendar: WorkingDayCalendar): string {
  let cache = civilCache.get(calendar);
  if (!cache) {
    cache = new Map();
    civilCache.set(calendar, cache);
  }
  const bucket = Math.floor(ms / QUARTER_HOUR);
  let date = cache.get(bucket);
  if (date === undefined) {
    date = calendar.civilDate(new Date(bucket * QUARTER_HOUR));
    cache.set(bucket, date);
  }
  return date;
}

/**
 * A civil date from a query value. Text is taken as is (`YYYY-MM-DD…`); a Date from a `date`
 * column is node-postgres' local midnight, so its local fields are the date; a Date from a
 * `timestamptz` column (`instant` true) is placed in the calendar's zone.
 */
export function civilDateOf(v: unknown, calendar: WorkingDayCalendar, instant: boolean): string | undefined {
  if (isEmpty(v)) return undefined;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return undefined;
    return instant
      ? civilDateOfInstant(v.getTime(), calendar)
      : `${v.getFullYear()}-${pad(v.getMonth() + 1)}-${pad(v.getDate())}`;
  }
  const s = String(v);
  if (instant && s.length > 10) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? undefined : civilDateOfInstant(t, calendar);
  }
  return /^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : undefined;
}

export function instantOf(v: unknown): number | undefined {
  if (isEmpty(v)) return undefined;
  const t = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isNaN(t) ? undefined : t;
}

export function numberOf(v: unknown): number {
  if (isEmpty(v)) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

export interface RecordRules {
  mandatoryColumns: readonly string[];
  pilotCodes: ReadonlySet<string>;
  publicationWorkingDays: number;
  /** A penalty type containing this text requires a positive fine amount. */
  fineMarker: string;
  calendar: WorkingDayCalendar;
  /** YYYY-MM-DD in the calendar's zone. */
  today: string;
  /**
   * The latest plausible decision date (date sanity), default `today`; the last day of the month
   * when a past month is recomputed, so a decision dated after its month stays invalid.
   */
  latestDecisionDate?: string;
}

const LEGAL = new Set(['legal', '法人', '法人及非法人组织', '1']);

/**
 * Judges every record of the month. Duplicates: the second and later rows with the same (decision
 * number, party code), in the order the query returns them.
 */
export function evaluateRecords(rows: readonly Row[], rules: RecordRules): Map<string, RecordFigures> {
  const byDept = new Map<string, RecordFigures>();
  const seen = new Set<string>();
  const lagCache = new Map<string, number | undefined>();
  /** Working days from a to b, or undefined when the calendar lacks a year in between (期限待定). */
  const lag = (a: string, b: string): number | undefined => {
    const key = `${a}|${b}`;
    if (lagCache.has(key)) return lagCache.get(key);
    const count = rules.calendar.workingDaysBetween(a, b);
    const v = count.unknownYears.length > 0 ? undefined : count.days;
    lagCache.set(key, v);
    return v;
  };
  const m = rules.mandatoryColumns.length;
  const latest = rules.latestDecisionDate ?? rules.today;
  for (const row of rows) {
    const dept = String(row.department ?? '');
    let f = byDept.get(dept);
    if (!f) {
      f = emptyFigures();
      byDept.set(dept, f);
    }
    f.submitted++;
    let missing = 0;
    for (const c of rules.mandatoryColumns) if (isEmpty(row[c])) missing++;
    f.mandatoryPresent += m - missing;
    f.mandatoryRequired += m;
    const reasons: InvalidReason[] = [];
    if (missing > 0) reasons.push('mandatory');

    const code = isEmpty(row.party_code) ? '' : String(row.party_code).trim();
    if (code !== '') {
      const legal = LEGAL.has(String(row.party_kind ?? 'legal'));
      const verdict = legal ? checkUscc(code, rules.pilotCodes) : checkResidentId(code, rules.today);
      if (verdict.status === 'invalid') reasons.push('code');
      else if (verdict.status === 'pilot') f.pilot++;
    }

    const decided = civilDateOf(row.decision_date, rules.calendar, false);
    const publicityEnd = civilDateOf(row.publicity_end, rules.calendar, false);
    if (decided !== undefined && (decided > latest || (publicityEnd !== undefined && publicityEnd < decided)))
      reasons.push('date');

    if (!isEmpty(row.decision_no) && code !== '') {
      const key = `${String(row.decision_no)}\u0000${code}`;
      if (seen.has(key)) reasons.push('duplicate');
      else seen.add(key);
    }

    if (
      'penalty_type' in row &&
      String(row.penalty_type ?? '').includes(rules.fineMarker) &&
      !(numberOf(row.fine_amount) > 0)
    )
      reasons.push('fine');

    if (reasons.length === 0) f.valid++;
    for (const r of reasons) f.invalid[r]++;

    if (decided === undefined || decided > latest) continue;
    const published = civilDateOf(row.published_at, rules.calendar, true);
    const days = lag(decided, published ?? rules.today);
    if (days === undefined) {
      // A year without holiday data: no breach is judged on a provisional count (DOMAIN.md §2).
      f.undetermined++;
    } else if (published !== undefined) {
      f.timelyBase++;
      if (days <= rules.publicationWorkingDays) f.onTime++;
      if (days > f.maxLagWorkingDays) f.maxLagWorkingDays = days;
    } else if (days > rules.publicationWorkingDays) {
      f.timelyBase++;
      f.overdue++;
      if (f.overdueSamples.length < 5 && !isEmpty(row.decision_no))
        f.overdueSamples.push(String(row.decision_no));
    }
  }
  return byDept;
}

export interface ReconciliationFigures {
  /** Sum of |local − acknowledged| over days past their due time. */
  overdueDifference: number;
  overdueDays: string[];
  /** Sum of |local − acknowledged| over days not yet due (today's exchange has not run). */
  pendingDifference: number;
}

/**
 * Day D's difference is overdue from `dueHour` (local) on the day after D: the nightly exchange and
 * the province's acknowledgement have had their time.
 */
export function evaluateReconciliation(
  rows: readonly Row[],
  calendar: WorkingDayCalendar,
  now: number,
  dueHour: number,
): ReconciliationFigures {
  const out: ReconciliationFigures = { overdueDifference: 0, overdueDays: [], pendingDifference: 0 };
  const byDay = new Map<string, { local: number; acknowledged: number }>();
  for (const row of rows) {
    const day = civilDateOf(row.day, calendar, false);
    if (!day) continue;
    const e = byDay.get(day) ?? { local: 0, acknowledged: 0 };
    e.local += numberOf(row.local_count);
    e.acknowledged += numberOf(row.acknowledged_count);
    byDay.set(day, e);
  }
  for (const [day, e] of [...byDay].sort(([a], [b]) => a.localeCompare(b))) {
    const diff = Math.abs(e.local - e.acknowledged);
    if (diff === 0) continue;
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const due = calendar.endOfDay(next).getTime() - (24 - dueHour) * 3_600_000;
    if (now >= due) {
      out.overdueDifference += diff;
      out.overdueDays.push(day);
    } else out.pendingDifference += diff;
  }
  return out;
}
