/**
 * When a clock is due. Minutes and hours are wall clock (7×24); `d` is calendar days of 24 h;
 * `wd` counts Chinese working days with lib/calendar (the day it starts never counts; due at
 * 24:00 local of the n-th working day). A working-day count that reaches into a year without
 * holiday data is returned with its `unknownYears`: the caller stores it as unknown (未知) and
 * never judges a breach on it.
 */
import type { WorkingDayCalendar } from '../../lib/calendar/index.js';
import type { ClockPolicy, Severity } from './policy.js';

export interface Due {
  dueAt: Date;
  /** Non-empty: the date is provisional (years without holiday data). */
  unknownYears: number[];
}

export function durationOf(clock: ClockPolicy, severity: Severity): string | undefined {
  return clock.bySeverity?.[severity] ?? clock.after;
}

export function dueAfter(start: Date, duration: string, calendar: WorkingDayCalendar): Due {
  const m = /^(\d+)(m|h|d|wd)$/.exec(duration);
  if (!m) throw new Error(`invalid duration "${duration}": expected e.g. 15m, 4h, 1d or 3wd`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'm':
      return { dueAt: new Date(start.getTime() + n * 60_000), unknownYears: [] };
    case 'h':
      return { dueAt: new Date(start.getTime() + n * 3_600_000), unknownYears: [] };
    case 'd':
      return { dueAt: new Date(start.getTime() + n * 86_400_000), unknownYears: [] };
    default: {
      const r = calendar.addWorkingDays(start, n);
      return { dueAt: r.deadline, unknownYears: r.unknownYears };
    }
  }
}

/** `2026-10-09 24:00` style local rendering for people; 未知 for an unknown deadline. */
export function formatLocal(instant: Date | string, timeZone: string): string {
  const d = typeof instant === 'string' ? new Date(instant) : instant;
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

export function formatDeadline(
  row: { due_at: string; unknown: number; state: string },
  timeZone: string,
): string {
  if (row.unknown) return `未知（节假日数据缺失，暂按 ${formatLocal(row.due_at, timeZone)}）`;
  return formatLocal(row.due_at, timeZone);
}
