import { describe, expect, it } from 'vitest';
import { quietUntil } from '../notify/routing.js';
import { activeOccurrence, matchesService, parseRecurrence, shapeOf } from './windows.js';

const shape = (
  start: string,
  duration: number,
  recurrence: string | null,
  tz = 'Asia/Shanghai',
  until: string | null = null,
) =>
  shapeOf({ time_zone: tz, starts_local: start, duration_minutes: duration, recurrence, until_local: until });
const at = (iso: string) => Date.parse(iso);

describe('maintenance windows', () => {
  it('a one-off window in Beijing time', () => {
    const s = shape('2026-10-03T01:00', 120, null);
    expect(activeOccurrence(s, at('2026-10-02T16:59:59Z'))).toBeNull();
    expect(activeOccurrence(s, at('2026-10-02T17:00:00Z'))).toEqual({
      start: at('2026-10-02T17:00:00Z'),
      end: at('2026-10-02T19:00:00Z'),
    });
    expect(activeOccurrence(s, at('2026-10-02T19:00:00Z'))).toBeNull();
  });

  it('weekly on Saturday and Sunday, crossing midnight, until a date', () => {
    const s = shape('2026-05-02T23:00', 180, 'FREQ=WEEKLY;BYDAY=SA,SU', 'Asia/Shanghai', '2026-05-31');
    expect(activeOccurrence(s, at('2026-05-09T16:00:00Z'))).not.toBeNull(); // Sun 00:00, from Saturday 23:00
    expect(activeOccurrence(s, at('2026-05-10T16:30:00Z'))).not.toBeNull(); // Mon 00:30, from Sunday 23:00
    expect(activeOccurrence(s, at('2026-05-11T16:30:00Z'))).toBeNull(); // Tue 00:30
    expect(activeOccurrence(s, at('2026-06-06T16:00:00Z'))).toBeNull(); // after until
  });

  it('keeps local wall-clock hours across a daylight-saving change (Europe/Berlin, 2026-03-29)', () => {
    // Sundays 01:00–05:00 local. On 2026-03-29 clocks jump 02:00 → 03:00: 01:00 CET = 00:00Z,
    // 05:00 CEST = 03:00Z (three real hours); the Sunday before is 00:00Z–04:00Z.
    const s = shape('2026-03-01T01:00', 240, 'FREQ=WEEKLY', 'Europe/Berlin');
    expect(activeOccurrence(s, at('2026-03-22T03:30:00Z'))).toEqual({
      start: at('2026-03-22T00:00:00Z'),
      end: at('2026-03-22T04:00:00Z'),
    });
    expect(activeOccurrence(s, at('2026-03-29T02:30:00Z'))).toEqual({
      start: at('2026-03-29T00:00:00Z'),
      end: at('2026-03-29T03:00:00Z'),
    });
    expect(activeOccurrence(s, at('2026-03-29T03:30:00Z'))).toBeNull();
    // Autumn (2026-10-25, 03:00 → 02:00): 01:00 CEST = 23:00Z, 05:00 CET = 04:00Z (five hours).
    expect(activeOccurrence(s, at('2026-10-25T03:30:00Z'))).toEqual({
      start: at('2026-10-24T23:00:00Z'),
      end: at('2026-10-25T04:00:00Z'),
    });
  });

  it('daily every other day; services with a prefix pattern', () => {
    const s = shape('2026-05-01T02:00', 60, 'FREQ=DAILY;INTERVAL=2');
    expect(activeOccurrence(s, at('2026-05-02T18:30:00Z'))).not.toBeNull(); // 05-03 02:30
    expect(activeOccurrence(s, at('2026-05-03T18:30:00Z'))).toBeNull(); // 05-04 02:30
    expect(matchesService([], 'anything')).toBe(true);
    expect(matchesService(['backup.*'], 'backup.restore_test')).toBe(true);
    expect(matchesService(['HostDown'], 'PgDown')).toBe(false);
  });

  it.each([
    ['FREQ=MONTHLY', /FREQ must be DAILY or WEEKLY/],
    ['FREQ=WEEKLY;BYDAY=XX', /BYDAY takes/],
    ['FREQ=WEEKLY;COUNT=3', /COUNT is not supported/],
    ['FREQ=DAILY;INTERVAL=0', /INTERVAL must be 1–52/],
  ])('refuses %s', (rule, message) => {
    expect(() => parseRecurrence(rule)).toThrow(message);
  });
});

describe('quiet hours', () => {
  const q = { timeZone: 'Asia/Shanghai', start: '22:00', end: '08:00', except: ['P1'] };
  it('crossing midnight; P1 and listed severities ignore them', () => {
    expect(quietUntil(q, 'P3', at('2026-05-11T15:00:00Z'))).toBe(at('2026-05-12T00:00:00Z')); // 23:00 → 08:00
    expect(quietUntil(q, 'P3', at('2026-05-11T22:00:00Z'))).toBe(at('2026-05-12T00:00:00Z')); // 06:00 → 08:00
    expect(quietUntil(q, 'P3', at('2026-05-12T00:00:00Z'))).toBeNull(); // 08:00
    expect(quietUntil(q, 'P1', at('2026-05-11T15:00:00Z'))).toBeNull();
    expect(quietUntil({ ...q, except: ['P2'] }, 'P2', at('2026-05-11T15:00:00Z'))).toBeNull();
    expect(quietUntil(false, 'P3', at('2026-05-11T15:00:00Z'))).toBeNull();
  });
});
