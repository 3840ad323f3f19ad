/**
 * Local wall-clock times in an IANA zone, for maintenance windows and quiet hours. Days and
 * offsets come from lib/calendar's civil-date helpers (Intl-based, no host TZ involved).
 */
import {
  civilDayAt,
  civilDayNumber,
  type DayNumber,
  formatCivilDate,
  weekdayOf,
  zoneOffsetMs,
} from '../../lib/calendar/civil-date.js';

export const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

/**
 * The instant at which the zone's wall clock shows `minutes` past midnight of `day`. A time
 * skipped by a daylight-saving jump maps to the same distance after the jump (02:30 on a
 * spring-forward night → 03:30); a time that occurs twice maps to its first occurrence.
 */
export function localToInstant(day: DayNumber, minutes: number, timeZone: string): number {
  const wallAsUtc = day * MS_PER_DAY + minutes * MS_PER_MINUTE;
  const before = zoneOffsetMs(wallAsUtc - MS_PER_DAY / 2, timeZone);
  const after = zoneOffsetMs(wallAsUtc + MS_PER_DAY / 2, timeZone);
  const candidates = [wallAsUtc - before, wallAsUtc - after].filter(
    (t) => t + zoneOffsetMs(t, timeZone) === wallAsUtc,
  );
  if (candidates.length > 0) return Math.min(...candidates);
  // In the gap of a spring-forward jump: keep the distance from the earlier offset.
  return wallAsUtc - before;
}

/** The local day and minute of the day of an instant. */
export function wallClockAt(instant: number, timeZone: string): { day: DayNumber; minutes: number } {
  const day = civilDayAt(instant, timeZone);
  const minutes = Math.floor((instant + zoneOffsetMs(instant, timeZone) - day * MS_PER_DAY) / MS_PER_MINUTE);
  return { day, minutes };
}

/** `HH:mm` → minutes after midnight. */
export function parseHhMm(text: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new Error(`invalid time "${text}": expected HH:mm (00:00–23:59)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** `YYYY-MM-DDTHH:mm` → day and minutes. */
export function parseLocalDateTime(text: string): { day: DayNumber; minutes: number } {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/.exec(text);
  if (!m) throw new Error(`invalid local time "${text}": expected YYYY-MM-DDTHH:mm`);
  return { day: civilDayNumber(m[1]!), minutes: parseHhMm(m[2]!) };
}

export { civilDayNumber, formatCivilDate, weekdayOf };
