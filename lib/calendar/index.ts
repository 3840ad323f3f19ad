/** The working-day calendar: see README.md in this folder. */
export { checkTimeZone } from './civil-date.js';
export { type HolidaySchedules, packageHolidaySchedules, schedulesFromData } from './holiday-data.js';
export {
  CalendarConfigError,
  CalendarOverrides,
  CalendarSettings,
  DateOrRange,
  YearSchedule,
} from './settings.js';
export {
  type DateInput,
  type DayInfo,
  type DaySource,
  DEFAULT_TIME_ZONE,
  type DeadlineResult,
  WorkingDayCalendar,
  type WorkingDayCalendarOptions,
  type WorkingDayCount,
} from './working-day-calendar.js';
