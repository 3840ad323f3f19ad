/**
 * Civil dates (`YYYY-MM-DD`, a day on a wall calendar, no time, no zone) and their relation to
 * instants in an IANA time zone. Everything here is computed with `Intl` and explicit offset
 * arithmetic, so the host's `TZ` never matters.
 */

const MS_PER_DAY = 86_400_000;
const CIVIL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A civil date as days since 1970-01-01 (the proleptic Gregorian day number). */
export type DayNumber = number;

/** Parses `YYYY-MM-DD` strictly (2026-02-30 is rejected); returns undefined when it is not a date. */
export function parseCivilDate(text: string): DayNumber | undefined {
  const m = CIVIL_DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return t / MS_PER_DAY;
}

/** Like {@link parseCivilDate} but throws a RangeError that quotes the bad text. */
export function civilDayNumber(text: string): DayNumber {
  const n = parseCivilDate(text);
  if (n === undefined) throw new RangeError(`not a calendar date (want YYYY-MM-DD): ${JSON.stringify(text)}`);
  return n;
}

export function formatCivilDate(day: DayNumber): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

export function yearOf(day: DayNumber): number {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}

/** 1-based month (1 = January). */
export function monthOf(day: DayNumber): number {
  return new Date(day * MS_PER_DAY).getUTCMonth() + 1;
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayOf(day: DayNumber): number {
  return new Date(day * MS_PER_DAY).getUTCDay();
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Checks an IANA zone name and returns its canonical spelling; throws with a clear message
 * otherwise (fail fast at start-up, not at the first deadline).
 */
export function checkTimeZone(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch (cause) {
    throw new RangeError(`unknown IANA time zone ${JSON.stringify(timeZone)} (e.g. "Asia/Shanghai")`, {
      cause,
    });
  }
}

interface WallClock {
  day: DayNumber;
  /** Milliseconds since local midnight (as the wall clock reads, seconds precision). */
  msOfDay: number;
}

function wallClock(instant: number, timeZone: string): WallClock {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)!.value);
  const day = Date.UTC(get('year'), get('month') - 1, get('day')) / MS_PER_DAY;
  return { day, msOfDay: ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 };
}

/** The zone's UTC offset at an instant, in milliseconds (east positive; +8 h for Asia/Shanghai). */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const wallAsUtc = w.day * MS_PER_DAY + w.msOfDay;
  // Intl shows whole seconds; compare against the instant truncated the same way.
  return wallAsUtc - Math.floor(instant / 1000) * 1000;
}

/** The civil date an instant falls on in the zone. */
export function civilDayAt(instant: Date | number, timeZone: string): DayNumber {
  return wallClock(typeof instant === 'number' ? instant : instant.getTime(), timeZone).day;
}

/**
 * The first instant of a civil date in the zone: local 00:00, or, where a daylight-saving jump
 * skips midnight (e.g. America/Santiago), the first wall-clock time that exists that day; where
 * midnight happens twice, the earlier one.
 */
export function startOfCivilDay(day: DayNumber, timeZone: string): Date {
  const wallMidnightAsUtc = day * MS_PER_DAY;
  // Both offsets around the local midnight are candidates; 36 h apart covers any zone's change.
  const offsets = new Set([
    zoneOffsetMs(wallMidnightAsUtc - 18 * 3_600_000, timeZone),
    zoneOffsetMs(wallMidnightAsUtc, timeZone),
    zoneOffsetMs(wallMidnightAsUtc + 18 * 3_600_000, timeZone),
  ]);
  let best: number | undefined;
  for (const off of offsets) {
    const candidate = wallMidnightAsUtc - off;
    if (civilDayAt(candidate, timeZone) !== day) continue;
    if (best === undefined || candidate < best) best = candidate;
  }
  if (best === undefined) {
    // Cannot happen for a real zone (every date has instants); keep a defined answer anyway.
    throw new Error(`no instant of ${formatCivilDate(day)} exists in ${timeZone}`);
  }
  return new Date(best);
}

export const MS_PER_CIVIL_DAY = MS_PER_DAY;
