/** The credit-data collector's options: the database, the datasets and their read-only SQL, targets. */
import { type Static, Type } from '@sinclair/typebox';
import { CalendarOverrides } from '../../../lib/calendar/index.js';

const Sql = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const DatasetSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[a-z][a-z0-9_]*$',
      description: 'Label value `dataset` and verdict target, e.g. `penalty`.',
    }),
    title: Type.String({ minLength: 1, description: 'Chinese name for summaries, e.g. 行政处罚.' }),
    timeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 600,
      default: 60,
      description: 'statement_timeout of each query of this dataset, and its deadline in the agent.',
    }),
    freshness: Sql(
      'Rows (department, newest_at, records_today, records_month): one per department, all departments.',
    ),
    records: Sql(
      "The month's records, one row each, ORDER BY id: department, decision_no, party_kind (legal|natural), party_code, decision_date, published_at, and optionally publicity_end, penalty_type, fine_amount, plus the mandatory columns.",
    ),
    mandatoryColumns: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Columns of the records query that must be present (not null, not blank).',
    }),
    reconciliation: Sql('Rows (day, local_count, acknowledged_count) for the days to reconcile.'),
    backlog: Sql('One row (items, oldest_at): the open non-standard (非标) items.'),
    stillPublic: Sql(
      'Rows (decision_no, department, reason) of repaired or expired records still in the publicity table; reason: repaired | expired.',
    ),
    withdrawn: Sql(
      'Rows (decision_no, department, reason) of records withdrawn from publicity recently (repaired or expired), most recent first, to look up on the portal search page (portalSearch).',
    ),
  },
  { additionalProperties: false },
);

export const CreditDataOptionsSchema = Type.Object({
  database: Type.Optional(
    Type.Object(
      {
        name: Type.String({ minLength: 1, default: 'credit', pattern: '^[A-Za-z0-9_.:-]+$' }),
        host: Type.String({ minLength: 1, default: '/var/run/postgresql' }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
        user: Type.String({ minLength: 1, default: 'creditops_monitor' }),
        database: Type.String({ minLength: 1, default: 'credit' }),
        passwordEnv: Type.Optional(Type.String({ minLength: 1 })),
        passwordFile: Type.Optional(Type.String({ minLength: 1 })),
        sslmode: Type.Union([Type.Literal('disable'), Type.Literal('require'), Type.Literal('verify-full')], {
          default: 'disable',
        }),
      },
      {
        additionalProperties: false,
        description: 'The credit database; absent: the collector does nothing.',
      },
    ),
  ),
  timeZone: Type.String({ minLength: 1, default: 'Asia/Shanghai' }),
  calendarOverrides: Type.Optional(CalendarOverrides),
  connectTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 60, default: 5 }),
  departments: Sql('Rows (department, name, cadence_days): every department expected to report.'),
  defaultCadenceDays: Type.Number({ exclusiveMinimum: 0, default: 7 }),
  maxDepartments: Type.Integer({
    minimum: 1,
    maximum: 2000,
    default: 200,
    description: 'Departments with their own series per dataset; the rest are counted as dropped.',
  }),
  pilotCodes: Type.Array(Type.String({ minLength: 18, maxLength: 18 }), {
    default: [],
    description: 'USCCs from the early pilots that fail their check character but are legal (warning).',
  }),
  publicationWorkingDays: Type.Integer({ minimum: 1, default: 7 }),
  fineMarker: Type.String({ minLength: 1, default: '罚款' }),
  validRateTarget: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
  completenessTarget: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
  onTimeTarget: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
  reconciliationDueHour: Type.Integer({
    minimum: 0,
    maximum: 23,
    default: 12,
    description: "A day's difference still open at this hour (local) of the next day is CRIT.",
  }),
  reconciliationLookbackDays: Type.Integer({ minimum: 1, maximum: 62, default: 7 }),
  backlogMaxAgeDays: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  previousMonthCircularUntilDay: Type.Integer({
    minimum: 0,
    maximum: 28,
    default: 10,
    description:
      "Until this day of the month the previous month's records are read too, every cycle: its overdue 双公示 records and quality still count in data.timeliness and data.quality, and its circular is recomputed (departments submit by the 10th; late publications and overdue records settle); 0: never.",
  }),
  previousMonthCircularEverySeconds: Type.Number({
    minimum: 0,
    default: 3600,
    description: "How often the previous month's circular is reported again during that time.",
  }),
  portalSearch: Type.Optional(
    Type.Object(
      {
        urlTemplate: Type.String({
          pattern: '^https?://.*\\{decisionNo\\}',
          description: 'The portal search URL; {decisionNo} is replaced by the URL-encoded decision number.',
        }),
        timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 60, default: 10 }),
        maxLookups: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
      },
      {
        additionalProperties: false,
        description:
          'Look withdrawn records up on the portal search page too (datasets with a withdrawn query).',
      },
    ),
  ),
  datasets: Type.Array(DatasetSchema, { default: [] }),
});

export type CreditDataOptions = Static<typeof CreditDataOptionsSchema>;
export type DatasetOptions = Static<typeof DatasetSchema>;
