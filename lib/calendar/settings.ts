/**
 * Configuration of the working-day calendar: a TypeBox schema for the YAML section, shared by
 * every daemon that counts working days, and the check that turns it into day sets.
 *
 * ```yaml
 * calendar:
 *   timeZone: Asia/Shanghai
 *   overrides:
 *     holidays: ['2026-12-31']            # an extra day off (e.g. a local decision)
 *     workdays: ['2026-12-27']            # an extra working day
 *     years:                              # a whole year the chinese-days package lacks
 *       '2027':
 *         holidays: ['2027-01-01', '2027-02-06..2027-02-14', '2027-10-01..2027-10-07']
 *         workdays: ['2027-02-20']
 * ```
 */
import { type Static, Type } from '@sinclair/typebox';
import { type DayNumber, formatCivilDate, parseCivilDate, yearOf } from './civil-date.js';

/** A date `YYYY-MM-DD` or an inclusive range `YYYY-MM-DD..YYYY-MM-DD`. */
export const DateOrRange = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}(\\.\\.\\d{4}-\\d{2}-\\d{2})?$',
  description: 'YYYY-MM-DD or an inclusive range YYYY-MM-DD..YYYY-MM-DD',
});

export const YearSchedule = Type.Object(
  {
    /** Days off: every public holiday of the year, including the weekend days inside a holiday. */
    holidays: Type.Array(DateOrRange, { default: [] }),
    /** Adjusted working days (调休): weekend days that are worked. */
    workdays: Type.Array(DateOrRange, { default: [] }),
  },
  { additionalProperties: false },
);
export type YearSchedule = Static<typeof YearSchedule>;

export const CalendarOverrides = Type.Object(
  {
    /**
     * Extra days off, in any year; they win over every other source.
     * @example ["2026-12-31"]
     */
    holidays: Type.Optional(Type.Array(DateOrRange)),
    /**
     * Extra working days, in any year; they win over the package and over `years`.
     * @example ["2026-12-27"]
     */
    workdays: Type.Optional(Type.Array(DateOrRange)),
    /**
     * Whole-year schedules, keyed by year (`'2027'`), from the State Council's notice
     * (国务院办公厅关于<year>年部分节假日安排的通知). A year listed here is known: days not listed
     * are working days Monday–Friday and days off on weekends. Replaces the package's data for
     * that year if it has any.
     */
    years: Type.Optional(
      Type.Record(Type.String(), YearSchedule, { propertyNames: { pattern: '^\\d{4}$' } }),
    ),
  },
  { additionalProperties: false },
);
export type CalendarOverrides = Static<typeof CalendarOverrides>;

export const CalendarSettings = Type.Object(
  {
    /**
     * IANA time zone in which days begin and end, whatever the host's `TZ`.
     * @defaultValue "Asia/Shanghai"
     */
    timeZone: Type.String({ default: 'Asia/Shanghai', minLength: 1 }),
    overrides: Type.Optional(CalendarOverrides),
  },
  { additionalProperties: false, default: {} },
);
export type CalendarSettings = Static<typeof CalendarSettings>;

/** The overrides as sets of day numbers, checked for contradictions. */
export interface ResolvedOverrides {
  holidays: Set<DayNumber>;
  workdays: Set<DayNumber>;
  years: Map<number, { holidays: Set<DayNumber>; workdays: Set<DayNumber> }>;
}

/** Every problem in the overrides, at once; each names the key, e.g. `overrides.years.2027.holidays[2]`. */
export class CalendarConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid working-day calendar configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'CalendarConfigError';
  }
}

const MAX_RANGE_DAYS = 366;

function expand(entries: readonly string[] | undefined, key: string, problems: string[]): Set<DayNumber> {
  const out = new Set<DayNumber>();
  (entries ?? []).forEach((entry, i) => {
    const where = `${key}[${i}]`;
    const [a, b, ...rest] = entry.split('..');
    const from = a === undefined ? undefined : parseCivilDate(a);
    const to = b === undefined ? from : parseCivilDate(b);
    if (rest.length > 0 || from === undefined || to === undefined) {
      problems.push(
        `${where}: ${JSON.stringify(entry)} is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD`,
      );
      return;
    }
    if (to < from || to - from >= MAX_RANGE_DAYS) {
      problems.push(
        `${where}: range ${JSON.stringify(entry)} must run forwards and span at most ${MAX_RANGE_DAYS} days`,
      );
      return;
    }
    for (let d = from; d <= to; d++) out.add(d);
  });
  return out;
}

function conflicts(off: Set<DayNumber>, on: Set<DayNumber>, key: string, problems: string[]): void {
  const both = [...off].filter((d) => on.has(d)).map(formatCivilDate);
  if (both.length > 0) problems.push(`${key}: listed both as holiday and as working day: ${both.join(', ')}`);
}

/** Validates and expands the overrides; throws {@link CalendarConfigError} listing every problem. */
export function resolveOverrides(overrides: CalendarOverrides | undefined): ResolvedOverrides {
  const problems: string[] = [];
  const holidays = expand(overrides?.holidays, 'overrides.holidays', problems);
  const workdays = expand(overrides?.workdays, 'overrides.workdays', problems);
  conflicts(holidays, workdays, 'overrides', problems);
  const years = new Map<number, { holidays: Set<DayNumber>; workdays: Set<DayNumber> }>();
  for (const [key, schedule] of Object.entries(overrides?.years ?? {})) {
    const base = `overrides.years.${key}`;
    if (!/^\d{4}$/.test(key)) {
      problems.push(`${base}: the key must be a four-digit year`);
      continue;
    }
    const year = Number(key);
    const off = expand(schedule.holidays, `${base}.holidays`, problems);
    const on = expand(schedule.workdays, `${base}.workdays`, problems);
    for (const [set, name] of [
      [off, 'holidays'],
      [on, 'workdays'],
    ] as const) {
      const outside = [...set].filter((d) => yearOf(d) !== year).map(formatCivilDate);
      if (outside.length > 0) problems.push(`${base}.${name}: dates outside ${year}: ${outside.join(', ')}`);
    }
    conflicts(off, on, base, problems);
    years.set(year, { holidays: off, workdays: on });
  }
  if (problems.length > 0) throw new CalendarConfigError(problems);
  return { holidays, workdays, years };
}
