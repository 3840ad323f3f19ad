/**
 * The working-day calendar of creditops: one module for every working-day count (ticket
 * deadlines in the O&M contract, 双公示 publication lag, department reporting timeliness).
 *
 * Working days follow the State Council's yearly holiday notice: public holidays are days off,
 * adjusted working days (调休, usually a Saturday or Sunday) are worked, otherwise Monday–Friday.
 * Sources, strongest first:
 *
 * 1. `overrides.holidays` / `overrides.workdays` (single dates, any year);
 * 2. `overrides.years[Y]` (a whole-year schedule from configuration);
 * 3. the npm package `chinese-days` (2004–2026 at 1.5.7).
 *
 * A date in a year that neither 2 nor 3 knows (and that 1 does not name) is `'unknown'`: it is
 * never silently counted Monday–Friday. Counts across such days still produce a provisional
 * result (Monday–Friday) but always report the years in `unknownYears`, and callers must show
 * the result as provisional (期限待定).
 *
 * All days begin and end in the configured IANA time zone (default Asia/Shanghai), whatever the
 * host's `TZ`.
 */
import {
  checkTimeZone,
  civilDayAt,
  civilDayNumber,
  type DayNumber,
  formatCivilDate,
  monthOf,
  startOfCivilDay,
  weekdayOf,
  yearOf,
} from './civil-date.js';
import { type HolidaySchedules, packageHolidaySchedules } from './holiday-data.js';
import { type CalendarOverrides, type ResolvedOverrides, resolveOverrides } from './settings.js';

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The longest count accepted: 20 years of working days, far beyond any contract clock. */
const MAX_WORKING_DAYS = 5000;

export interface WorkingDayCalendarOptions {
  /**
   * IANA zone in which days begin and end.
   * @defaultValue "Asia/Shanghai"
   */
  timeZone?: string;
  /** Extra holidays, extra working days and whole-year schedules from configuration. */
  overrides?: CalendarOverrides;
  /**
   * The holiday data to build on; the installed `chinese-days` by default. Tests inject a
   * reduced set to play a package release that lacks a year.
   */
  schedules?: HolidaySchedules;
}

/** A calendar date: `'YYYY-MM-DD'` (a civil date, taken as is) or an instant (`Date`). */
export type DateInput = string | Date;

/** Where the answer for a day came from. */
export type DaySource = 'override' | 'config-year' | 'chinese-days' | 'none';

export interface DayInfo {
  /** The civil date in the calendar's zone, `YYYY-MM-DD`. */
  date: string;
  /** `'unknown'` when no source covers the day's year. */
  working: boolean | 'unknown';
  source: DaySource;
  /** The holiday or 调休 name (Chinese) when the source gives one, e.g. `国庆节`. */
  name?: string;
  /** The 调休 case: a Saturday or Sunday that is a working day. */
  adjusted: boolean;
}

export interface DeadlineResult {
  /**
   * The instant the deadline passes: 24:00 local time of {@link DeadlineResult.dueDate}, i.e.
   * the first instant of the next day in the calendar's zone. "Done before `deadline`" is on time.
   */
  deadline: Date;
  /** The last day (local civil date) on which the work is still on time. */
  dueDate: string;
  /**
   * Years without holiday data that the count crossed (ascending). Non-empty means the deadline
   * is provisional: those years' days were counted Monday–Friday and the true deadline may be
   * later (or earlier). Show it as 期限待定 and warn.
   */
  unknownYears: number[];
}

export interface WorkingDayCount {
  /** Working days in (a, b]: after the day of `a`, up to and including the day of `b`; negative if b < a. */
  days: number;
  /** As in {@link DeadlineResult.unknownYears}: non-empty means `days` is provisional. */
  unknownYears: number[];
}

/**
 * Chinese working days in one IANA time zone.
 *
 * @example
 * ```ts
 * const calendar = new WorkingDayCalendar();            // Asia/Shanghai, chinese-days data
 * calendar.isWorkingDay('2026-10-10');                  // true (调休 Saturday)
 * calendar.addWorkingDays(new Date('2026-09-30T10:00:00+08:00'), 2).dueDate; // '2026-10-09'
 * ```
 */
export class WorkingDayCalendar {
  /** The canonical IANA name of the zone in use. */
  readonly timeZone: string;
  readonly #schedules: HolidaySchedules;
  readonly #overrides: ResolvedOverrides;

  /**
   * @throws RangeError for an unknown time zone; {@link CalendarConfigError} listing every bad
   * override (malformed date, a date both holiday and working day, a year schedule with dates
   * of another year).
   */
  constructor(options: WorkingDayCalendarOptions = {}) {
    this.timeZone = checkTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE);
    this.#schedules = options.schedules ?? packageHolidaySchedules();
    this.#overrides = resolveOverrides(options.overrides);
  }

  /** True when the year has a complete schedule (from `chinese-days` or `overrides.years`). */
  knowsYear(year: number): boolean {
    return this.#overrides.years.has(year) || this.#schedules.years.has(year);
  }

  /** Every year with a complete schedule, ascending. */
  knownYears(): number[] {
    return [...new Set([...this.#schedules.years, ...this.#overrides.years.keys()])].sort((a, b) => a - b);
  }

  /** The civil date (`YYYY-MM-DD`) of an instant in the calendar's zone. */
  civilDate(instant: Date): string {
    return formatCivilDate(civilDayAt(instant, this.timeZone));
  }

  /** 24:00 local time of a civil date (the first instant of the next day). */
  endOfDay(date: string): Date {
    return startOfCivilDay(civilDayNumber(date) + 1, this.timeZone);
  }

  /** What the calendar knows about one day, and from where. */
  dayInfo(date: DateInput): DayInfo {
    return this.#info(this.#day(date));
  }

  /**
   * Whether a day is a working day: `true`, `false`, or `'unknown'` for a year without holiday
   * data (unless an override names that very date). A `Date` is first placed on its local date.
   */
  isWorkingDay(date: DateInput): boolean | 'unknown' {
    return this.#info(this.#day(date)).working;
  }

  /**
   * The deadline of something due "n working days from receipt".
   *
   * Convention (as 民法典 art. 201/203 count periods: the starting day is not counted, a period
   * ends at 24:00 of its last day): the day of receipt never counts, whatever the hour and
   * whether or not it is itself a working day; the deadline is 24:00 local of the n-th working
   * day after the day of receipt. So a Friday 23:59 receipt and a Saturday receipt are both
   * due at the end of the n-th working day from Monday on (unless that Saturday is 调休, in which
   * case a Friday receipt's first working day is that Saturday).
   *
   * @param start the instant of receipt (or a civil date `YYYY-MM-DD`)
   * @param n whole working days, 1…5000
   */
  addWorkingDays(start: DateInput, n: number): DeadlineResult {
    if (!Number.isInteger(n) || n < 1 || n > MAX_WORKING_DAYS) {
      throw new RangeError(`working days must be a whole number from 1 to ${MAX_WORKING_DAYS} (got ${n})`);
    }
    const unknown = new Set<number>();
    let day = this.#day(start);
    for (let counted = 0; counted < n; ) {
      day += 1;
      if (this.#countsAsWorking(day, unknown)) counted += 1;
    }
    const dueDate = formatCivilDate(day);
    return {
      deadline: startOfCivilDay(day + 1, this.timeZone),
      dueDate,
      unknownYears: [...unknown].sort((a, b) => a - b),
    };
  }

  /**
   * Working days from `a` to `b`: the working days after the day of `a` up to and including the
   * day of `b` (negative when `b` is before `a`; 0 on the same day). This is the lag measure
   * that matches {@link addWorkingDays}: `workingDaysBetween(a, b).days <= n` exactly when the
   * day of `b` is not after `addWorkingDays(a, n).dueDate`.
   *
   * 双公示: `workingDaysBetween(decisionDate, publicationDate).days` is the publication lag; a
   * decision is published on time when it is ≤ 7 (and `unknownYears` is empty; otherwise the
   * verdict is provisional).
   */
  workingDaysBetween(a: DateInput, b: DateInput): WorkingDayCount {
    const from = this.#day(a);
    const to = this.#day(b);
    const [lo, hi, sign] = from <= to ? [from, to, 1] : [to, from, -1];
    const unknown = new Set<number>();
    let days = 0;
    for (let d = lo + 1; d <= hi; d++) if (this.#countsAsWorking(d, unknown)) days += 1;
    return { days: sign * days, unknownYears: [...unknown].sort((x, y) => x - y) };
  }

  /**
   * A warning (Chinese first, then English) when holiday data is missing for the current year,
   * or, from 1 December on, for the next year; undefined when all is well. The collector logs
   * it and shows it on its overview page.
   */
  missingNextYearWarning(now: Date = new Date()): string | undefined {
    const today = civilDayAt(now, this.timeZone);
    const year = yearOf(today);
    if (!this.knowsYear(year)) return missingYearText(year, 'current');
    if (monthOf(today) === 12 && !this.knowsYear(year + 1)) return missingYearText(year + 1, 'next');
    return undefined;
  }

  #day(date: DateInput): DayNumber {
    if (typeof date === 'string') return civilDayNumber(date);
    if (Number.isNaN(date.getTime())) throw new RangeError('invalid Date');
    return civilDayAt(date, this.timeZone);
  }

  /** Whether a day counts in a sum; an unknown day counts Monday–Friday and records its year. */
  #countsAsWorking(day: DayNumber, unknown: Set<number>): boolean {
    const info = this.#info(day);
    if (info.working !== 'unknown') return info.working;
    unknown.add(yearOf(day));
    return isMondayToFriday(day);
  }

  #info(day: DayNumber): DayInfo {
    const date = formatCivilDate(day);
    const weekend = !isMondayToFriday(day);
    const result = (working: boolean | 'unknown', source: DaySource, name?: string): DayInfo => ({
      date,
      working,
      source,
      adjusted: working === true && weekend,
      ...(name === undefined ? {} : { name }),
    });
    if (this.#overrides.holidays.has(day)) return result(false, 'override');
    if (this.#overrides.workdays.has(day)) return result(true, 'override');
    const year = yearOf(day);
    const configured = this.#overrides.years.get(year);
    if (configured) {
      if (configured.holidays.has(day)) return result(false, 'config-year');
      if (configured.workdays.has(day)) return result(true, 'config-year');
      return result(!weekend, 'config-year');
    }
    if (this.#schedules.years.has(year)) {
      const holiday = this.#schedules.holidays.get(date);
      if (holiday !== undefined) return result(false, 'chinese-days', holiday);
      const workday = this.#schedules.workdays.get(date);
      if (workday !== undefined) return result(true, 'chinese-days', workday);
      return result(!weekend, 'chinese-days');
    }
    return result('unknown', 'none');
  }
}

function isMondayToFriday(day: DayNumber): boolean {
  const w = weekdayOf(day);
  return w >= 1 && w <= 5;
}

function missingYearText(year: number, which: 'current' | 'next'): string {
  const zh =
    `${year} 年法定节假日安排缺失${which === 'next' ? '（明年）' : '（今年）'}：涉及 ${year} 年的工作日期限` +
    `（工单时限、双公示时效）将标记为"期限待定"，不会按周一至周五计算。` +
    `请升级 npm 包 chinese-days，或按国务院办公厅的通知在配置 calendar.overrides.years."${year}" 中填写全年安排。`;
  const en =
    `The ${year} public holiday schedule is missing (${which} year): working-day deadlines ` +
    `(ticket clocks, 双公示 timeliness) that reach into ${year} are flagged as provisional and are ` +
    `not counted Monday–Friday. Upgrade the npm package chinese-days, or add the State Council ` +
    `schedule under calendar.overrides.years."${year}" in the configuration.`;
  return `${zh}\n${en}`;
}
