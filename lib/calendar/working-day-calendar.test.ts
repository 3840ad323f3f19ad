import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { formatCivilDate, parseCivilDate } from './civil-date.js';
import { packageHolidaySchedules, schedulesFromData } from './holiday-data.js';
import { CalendarConfigError, WorkingDayCalendar } from './index.js';

// The package's CommonJS build, as Node loads it (its types describe the ES build's default export).
const chineseDays = createRequire(import.meta.url)('chinese-days') as { isWorkday(date: string): boolean };
const calendar = new WorkingDayCalendar();
/** An instant given as Shanghai wall-clock time. */
const shanghai = (local: string): Date => new Date(`${local}+08:00`);

describe('the 2026 schedule (DOMAIN.md §2)', () => {
  it.each([
    ['2026-10-01', false],
    ['2026-10-02', false],
    ['2026-10-03', false],
    ['2026-10-04', false],
    ['2026-10-05', false],
    ['2026-10-06', false],
    ['2026-10-07', false],
    ['2026-10-08', true],
    ['2026-10-10', true], // Saturday, 调休
    ['2026-02-14', true], // Saturday, 调休
    ['2026-02-17', false], // Spring Festival
    ['2026-03-07', false], // an ordinary Saturday
    ['2026-03-09', true], // an ordinary Monday
  ] as const)('%s working: %s', (date, working) => {
    expect(calendar.isWorkingDay(date)).toBe(working);
  });

  it('describes where an answer comes from', () => {
    expect(calendar.dayInfo('2026-10-10')).toEqual({
      date: '2026-10-10',
      working: true,
      source: 'chinese-days',
      adjusted: true,
      name: '国庆节',
    });
    expect(calendar.dayInfo('2026-02-17')).toMatchObject({ working: false, name: '春节', adjusted: false });
  });
});

describe('addWorkingDays: n working days from receipt end at 24:00 of the n-th working day after the day of receipt', () => {
  // The table from issue 5's acceptance, plus receipts the on-call engineer actually sees.
  it.each([
    ['objection over National Day', '2026-09-30T10:00:00', 2, '2026-10-09'],
    ['objection before a 调休 Saturday', '2026-02-12T09:00:00', 2, '2026-02-14'],
    ['change research over Spring Festival', '2026-02-13T09:00:00', 5, '2026-02-27'],
    ['five days spanning the National Day week', '2026-09-28T09:00:00', 5, '2026-10-10'],
    // 09-20 (Sunday) and 10-10 (Saturday) are 调休; 09-25 (中秋) and 10-01..07 are off.
    ['twenty days across Mid-Autumn and National Day', '2026-09-15T09:00:00', 20, '2026-10-19'],
    ['Friday evening: the day of receipt never counts', '2026-03-06T23:30:00', 1, '2026-03-09'],
    ['Saturday: the first working day is Monday', '2026-03-07T10:00:00', 1, '2026-03-09'],
    ['Sunday: the same Monday', '2026-03-08T10:00:00', 1, '2026-03-09'],
    ['Friday evening before a 调休 Saturday: that Saturday is day 1', '2026-02-13T22:00:00', 1, '2026-02-14'],
    [
      'on the 调休 Saturday itself: the day of receipt does not count',
      '2026-02-14T10:00:00',
      1,
      '2026-02-24',
    ],
    ['on a holiday: counting starts after it', '2026-10-03T10:00:00', 1, '2026-10-08'],
  ] as const)('%s', (_case, received, n, dueDate) => {
    const result = calendar.addWorkingDays(shanghai(received), n);
    expect(result).toEqual({
      dueDate,
      deadline: new Date(`${formatCivilDate(parseCivilDate(dueDate)! + 1)}T00:00:00+08:00`),
      unknownYears: [],
    });
  });

  it('accepts a civil date as the day of receipt', () => {
    expect(calendar.addWorkingDays('2026-09-30', 2).dueDate).toBe('2026-10-09');
  });

  it('rejects counts that are not whole positive numbers', () => {
    expect(() => calendar.addWorkingDays('2026-09-30', 0)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays('2026-09-30', 1.5)).toThrow(/whole number/);
    expect(() => calendar.addWorkingDays('2026-02-30', 1)).toThrow(/not a calendar date/);
    expect(() => calendar.addWorkingDays(new Date(Number.NaN), 1)).toThrow(/invalid Date/);
  });
});

describe('time zone: days begin and end in the configured zone, never the host zone', () => {
  it('places UTC instants near Shanghai midnight on the Shanghai date', () => {
    // 2026-09-30T15:59:59Z is 23:59:59 on 30 September in Shanghai (a working day);
    // one second later it is 1 October, a holiday.
    expect(calendar.isWorkingDay(new Date('2026-09-30T15:59:59Z'))).toBe(true);
    expect(calendar.isWorkingDay(new Date('2026-09-30T16:00:00Z'))).toBe(false);
    expect(calendar.civilDate(new Date('2026-09-30T16:00:00Z'))).toBe('2026-10-01');
  });

  it('counts a receipt at 00:30 Shanghai (16:30 UTC the day before) from the Shanghai date', () => {
    // Friday 2026-03-06 16:30Z is Saturday 00:30 in Shanghai: same deadline as any Saturday receipt.
    expect(calendar.addWorkingDays(new Date('2026-03-06T16:30:00Z'), 1).dueDate).toBe('2026-03-09');
    // Friday 15:59Z is still Friday in Shanghai.
    expect(calendar.addWorkingDays(new Date('2026-03-06T15:59:00Z'), 1).dueDate).toBe('2026-03-09');
    // On 2026-02-13 (Friday) 16:30Z it is already the 调休 Saturday in Shanghai: not counted.
    expect(calendar.addWorkingDays(new Date('2026-02-13T16:30:00Z'), 1).dueDate).toBe('2026-02-24');
    expect(calendar.addWorkingDays(new Date('2026-02-13T15:30:00Z'), 1).dueDate).toBe('2026-02-14');
  });

  it('gives a different answer for the same instant in another zone', () => {
    const utc = new WorkingDayCalendar({ timeZone: 'UTC' });
    expect(utc.isWorkingDay(new Date('2026-09-30T16:00:00Z'))).toBe(true);
    expect(utc.addWorkingDays(new Date('2026-09-30T16:00:00Z'), 2)).toEqual({
      dueDate: '2026-10-09',
      deadline: new Date('2026-10-10T00:00:00Z'),
      unknownYears: [],
    });
  });

  it('ends days correctly across daylight-saving changes', () => {
    const newYork = new WorkingDayCalendar({ timeZone: 'America/New_York' });
    expect(newYork.endOfDay('2026-03-07')).toEqual(new Date('2026-03-08T05:00:00Z')); // EST
    expect(newYork.endOfDay('2026-03-08')).toEqual(new Date('2026-03-09T04:00:00Z')); // EDT
    // Chile skips local midnight on 2026-09-06: that day begins at 01:00 (04:00Z).
    const santiago = new WorkingDayCalendar({ timeZone: 'America/Santiago' });
    expect(santiago.endOfDay('2026-09-05')).toEqual(new Date('2026-09-06T04:00:00Z'));
    // …and repeats 23:00–24:00 on 2026-04-04: the day ends at the second midnight.
    expect(santiago.endOfDay('2026-04-04')).toEqual(new Date('2026-04-05T04:00:00Z'));
    expect(santiago.civilDate(new Date('2026-04-05T03:59:59Z'))).toBe('2026-04-04');
  });

  it('refuses an unknown zone at construction', () => {
    expect(() => new WorkingDayCalendar({ timeZone: 'Asia/Beijing' })).toThrow(
      /unknown IANA time zone "Asia\/Beijing"/,
    );
  });
});

describe('years without holiday data', () => {
  it('knows 2004–2026 from chinese-days and not 2027', () => {
    expect(calendar.knownYears()).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
    expect(calendar.knowsYear(2026)).toBe(true);
    expect(calendar.knowsYear(2027)).toBe(false);
    expect(calendar.isWorkingDay('2027-01-04')).toBe('unknown');
    expect(calendar.isWorkingDay('2003-06-02')).toBe('unknown');
  });

  it('flags a deadline that reaches into 2027 instead of silently counting Monday–Friday', () => {
    const result = calendar.addWorkingDays(shanghai('2026-12-29T10:00:00'), 5);
    expect(result.unknownYears).toEqual([2027]);
    // Provisional answer (Mon–Fri for 2027): 12-30, 12-31, 01-01, 01-04, 01-05.
    expect(result.dueDate).toBe('2027-01-05');
  });

  it('flags a deadline whose count crosses an unknown year into a known one', () => {
    const known2028 = new WorkingDayCalendar({
      overrides: { years: { '2028': { holidays: ['2028-01-01'], workdays: [] } } },
    });
    const result = known2028.addWorkingDays('2026-12-01', 300);
    expect(result.unknownYears).toEqual([2027]);
    expect(result.dueDate.startsWith('2028-')).toBe(true);
  });

  it('counts 2027 with a whole-year schedule from configuration, unflagged', () => {
    const configured = new WorkingDayCalendar({
      overrides: {
        years: { '2027': { holidays: ['2027-01-01..2027-01-03'], workdays: [] } },
      },
    });
    expect(configured.knowsYear(2027)).toBe(true);
    expect(configured.isWorkingDay('2027-01-01')).toBe(false);
    expect(configured.isWorkingDay('2027-01-04')).toBe(true);
    // 12-30, 12-31, then 01-01 is a holiday by the override: 01-04, 01-05.
    expect(configured.addWorkingDays(shanghai('2026-12-29T10:00:00'), 5)).toEqual({
      dueDate: '2027-01-06',
      deadline: shanghai('2027-01-07T00:00:00'),
      unknownYears: [],
    });
  });

  it('answers for a single overridden date in an unknown year, and only for that date', () => {
    const single = new WorkingDayCalendar({ overrides: { holidays: ['2027-01-01'] } });
    expect(single.isWorkingDay('2027-01-01')).toBe(false);
    expect(single.isWorkingDay('2027-01-04')).toBe('unknown');
    expect(single.knowsYear(2027)).toBe(false);
  });

  it('plays a package release that lacks the current year', () => {
    const full = packageHolidaySchedules();
    const without2026 = new WorkingDayCalendar({
      schedules: { ...full, years: new Set([...full.years].filter((y) => y !== 2026)) },
    });
    expect(without2026.isWorkingDay('2026-10-01')).toBe('unknown');
    expect(without2026.missingNextYearWarning(shanghai('2026-06-01T09:00:00'))).toMatch(
      /^2026 年法定节假日安排缺失（今年）/,
    );
  });
});

describe('single-date overrides', () => {
  it('an extra holiday pushes a deadline; an extra working day pulls it in', () => {
    const extraHoliday = new WorkingDayCalendar({ overrides: { holidays: ['2026-10-08'] } });
    expect(extraHoliday.addWorkingDays('2026-09-30', 2).dueDate).toBe('2026-10-10');
    const extraWorkday = new WorkingDayCalendar({ overrides: { workdays: ['2026-10-07'] } });
    expect(extraWorkday.addWorkingDays('2026-09-30', 2).dueDate).toBe('2026-10-08');
    expect(extraWorkday.dayInfo('2026-10-07')).toMatchObject({ working: true, source: 'override' });
  });

  it('reports every contradiction or malformed entry at once, naming its key', () => {
    let error: unknown;
    try {
      new WorkingDayCalendar({
        overrides: {
          holidays: ['2026-10-09', '2026-13-01'],
          workdays: ['2026-10-09'],
          years: { '2027': { holidays: ['2027-02-06..2027-02-14', '2026-12-31'], workdays: ['2027-02-10'] } },
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CalendarConfigError);
    expect((error as CalendarConfigError).problems).toEqual([
      'overrides.holidays[1]: "2026-13-01" is not a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD',
      'overrides: listed both as holiday and as working day: 2026-10-09',
      'overrides.years.2027.holidays: dates outside 2027: 2026-12-31',
      'overrides.years.2027: listed both as holiday and as working day: 2027-02-10',
    ]);
  });
});

describe('workingDaysBetween: the 双公示 publication lag', () => {
  it('counts working days after the decision day up to and including the publication day', () => {
    // Decision Monday 2026-09-28; published Saturday 2026-10-10 (调休): 09-29, 09-30, 10-08, 10-09, 10-10.
    expect(calendar.workingDaysBetween('2026-09-28', '2026-10-10')).toEqual({ days: 5, unknownYears: [] });
    expect(calendar.workingDaysBetween('2026-09-28', '2026-09-28').days).toBe(0);
    expect(calendar.workingDaysBetween('2026-10-10', '2026-09-28').days).toBe(-5);
    // Published during the holiday: no working day passed since the decision on 09-30.
    expect(calendar.workingDaysBetween('2026-09-30', '2026-10-05').days).toBe(0);
  });

  it('agrees with addWorkingDays: lag ≤ n exactly up to the due date', () => {
    for (let start = parseCivilDate('2025-12-01')!; start <= parseCivilDate('2026-12-01')!; start += 3) {
      const decision = formatCivilDate(start);
      for (const n of [1, 2, 5, 7, 20]) {
        const { dueDate } = calendar.addWorkingDays(decision, n);
        expect(calendar.workingDaysBetween(decision, dueDate).days).toBe(n);
        const dayAfter = formatCivilDate(parseCivilDate(dueDate)! + 1);
        expect(calendar.workingDaysBetween(decision, dayAfter).days).toBeGreaterThanOrEqual(n);
        const dayBefore = formatCivilDate(parseCivilDate(dueDate)! - 1);
        expect(calendar.workingDaysBetween(decision, dayBefore).days).toBe(n - 1);
      }
    }
  });

  it('flags a lag measured across an unknown year', () => {
    expect(
      calendar.workingDaysBetween(shanghai('2026-12-28T09:00:00'), shanghai('2027-01-08T09:00:00')),
    ).toEqual({
      days: 9,
      unknownYears: [2027],
    });
  });
});

describe('missingNextYearWarning', () => {
  it('stays silent until December, then warns in Chinese and English', () => {
    expect(calendar.missingNextYearWarning(new Date('2026-11-30T15:59:59Z'))).toBeUndefined();
    const warning = calendar.missingNextYearWarning(new Date('2026-11-30T16:00:00Z')); // 1 Dec, Shanghai
    expect(warning).toMatch(/^2027 年法定节假日安排缺失（明年）/);
    expect(warning).toContain('calendar.overrides.years."2027"');
    expect(warning).toContain('The 2027 public holiday schedule is missing (next year)');
  });

  it('is silent when next year comes from configuration', () => {
    const configured = new WorkingDayCalendar({
      overrides: { years: { '2027': { holidays: [], workdays: [] } } },
    });
    expect(configured.missingNextYearWarning(shanghai('2026-12-15T09:00:00'))).toBeUndefined();
  });

  it('warns about the current year whenever it is unknown', () => {
    expect(calendar.missingNextYearWarning(shanghai('2027-03-01T09:00:00'))).toMatch(/^2027 年.*（今年）/);
  });
});

describe('the chinese-days data', () => {
  it('agrees with chinese-days isWorkday on every day of every year it knows', () => {
    const schedules = packageHolidaySchedules();
    let checked = 0;
    for (const year of schedules.years) {
      for (let d = parseCivilDate(`${year}-01-01`)!; d <= parseCivilDate(`${year}-12-31`)!; d++) {
        const date = formatCivilDate(d);
        // A string, not a Date: the package parses Date objects in the host zone.
        if (calendar.isWorkingDay(date) !== chineseDays.isWorkday(date)) {
          throw new Error(`disagreement on ${date}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(23 * 365);
  });

  it('shows why the package alone is not enough: it answers Monday–Friday for 2027', () => {
    expect(chineseDays.isWorkday('2027-01-01')).toBe(true); // surely a holiday in reality
    expect(calendar.isWorkingDay('2027-01-01')).toBe('unknown');
  });

  it('does not take a stray date for a known year', () => {
    const schedules = schedulesFromData({
      holidays: {
        '2030-01-01': "New Year's Day,元旦,1",
        '2029-02-12': 'Spring Festival,春节,7',
        '2029-10-01': 'National Day,国庆节,7',
      },
      workdays: { '2029-12-29': "New Year's Day,元旦,1" },
    });
    expect([...schedules.years]).toEqual([2029]);
  });
});
