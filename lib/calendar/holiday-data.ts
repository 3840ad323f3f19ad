/**
 * The State Council holiday schedules as shipped by the npm package `chinese-days`.
 *
 * We read the package's data file rather than call `isWorkday()`: for a year it has no schedule
 * for, `isWorkday()` silently answers Monday–Friday, and it parses `Date` arguments in the
 * host's time zone. The data file lets us tell which years the package really knows.
 */
import { createRequire } from 'node:module';
import { parseCivilDate, yearOf } from './civil-date.js';

/** The shape of `chinese-days/dist/chinese-days.json` (1.5.x): date → "English,中文,days". */
interface ChineseDaysJson {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

export interface HolidaySchedules {
  /** Years with a complete schedule (see {@link packageHolidaySchedules}). */
  years: ReadonlySet<number>;
  /** Public holidays (days off, weekends inside a holiday included), date → Chinese name. */
  holidays: ReadonlyMap<string, string>;
  /** Adjusted working days (调休, a Saturday or Sunday that is worked), date → Chinese name. */
  workdays: ReadonlyMap<string, string>;
}

function chineseName(value: string): string {
  return value.split(',')[1] ?? value;
}

/**
 * Builds schedules from data shaped like the package's JSON. A year counts as known only when
 * its data holds both the Spring Festival (春节) and the National Day (国庆节) holidays: every
 * State Council notice since 2000 has both, while a stray date (say 12-31 worked for the next
 * year's New Year) does not make a year's schedule known.
 */
export function schedulesFromData(data: ChineseDaysJson): HolidaySchedules {
  const holidays = new Map<string, string>();
  const workdays = new Map<string, string>();
  const names = new Map<number, Set<string>>();
  for (const [date, value] of Object.entries(data.holidays)) {
    const day = parseCivilDate(date);
    if (day === undefined) continue;
    const name = chineseName(value);
    holidays.set(date, name);
    const y = yearOf(day);
    if (!names.has(y)) names.set(y, new Set());
    names.get(y)!.add(name);
  }
  for (const [date, value] of Object.entries(data.workdays)) {
    if (parseCivilDate(date) !== undefined) workdays.set(date, chineseName(value));
  }
  const years = new Set<number>();
  for (const [y, set] of names) if (set.has('春节') && set.has('国庆节')) years.add(y);
  return { years, holidays, workdays };
}

let cached: HolidaySchedules | undefined;

/** The schedules of the installed `chinese-days` (2004–2026 at 1.5.7). Loaded once. */
export function packageHolidaySchedules(): HolidaySchedules {
  if (!cached) {
    const require = createRequire(import.meta.url);
    let data: ChineseDaysJson;
    try {
      data = require('chinese-days/dist/chinese-days.json') as ChineseDaysJson;
    } catch (cause) {
      throw new Error(
        'cannot read the holiday data of the npm package chinese-days (dist/chinese-days.json); ' +
          'is it installed, and did its layout change?',
        { cause },
      );
    }
    cached = schedulesFromData(data);
  }
  return cached;
}
