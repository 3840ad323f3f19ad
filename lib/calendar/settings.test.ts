import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config-file.js';
import { CalendarSettings, WorkingDayCalendar } from './index.js';

const File = Type.Object({ calendar: CalendarSettings }, { additionalProperties: false });

describe('calendar configuration', () => {
  it('parses the documented YAML into a working calendar', () => {
    const config = parseConfig(
      File,
      [
        'calendar:',
        '  overrides:',
        "    holidays: ['2026-12-31']",
        '    years:',
        "      '2027':",
        "        holidays: ['2027-01-01', '2027-02-06..2027-02-14', '2027-10-01..2027-10-07']",
        "        workdays: ['2027-02-20']",
      ].join('\n'),
      'collector.yaml',
    );
    expect(config.calendar.timeZone).toBe('Asia/Shanghai');
    const calendar = new WorkingDayCalendar(config.calendar);
    expect(calendar.isWorkingDay('2026-12-31')).toBe(false);
    expect(calendar.isWorkingDay('2027-02-10')).toBe(false);
    expect(calendar.isWorkingDay('2027-02-20')).toBe(true); // a Saturday, 调休
    expect(calendar.addWorkingDays('2026-12-30', 1)).toMatchObject({
      dueDate: '2027-01-04',
      unknownYears: [],
    });
  });

  it('locates a malformed date in the file', () => {
    expect(() =>
      parseConfig(File, "calendar:\n  overrides:\n    holidays: ['2026-1-5']\n", 'collector.yaml'),
    ).toThrow(ConfigError);
    try {
      parseConfig(File, "calendar:\n  overrides:\n    holidays: ['2026-1-5']\n", 'collector.yaml');
    } catch (e) {
      expect((e as ConfigError).diagnostics[0]).toMatchObject({
        line: 3,
        key: 'calendar.overrides.holidays.0',
      });
    }
  });
});
