import { describe, expect, it } from 'vitest';
import { WorkingDayCalendar } from '../../../lib/calendar/index.js';
import { MetricRegistry } from '../../../lib/metrics.js';
import type { Verdict } from '../types.js';
import { bindParameters, CreditDataCollector, clockAt } from './collector.js';
import { evaluateReconciliation, evaluateRecords } from './evaluate.js';
import type { CreditDataOptions } from './options.js';

const calendar = new WorkingDayCalendar();
const rules = {
  mandatoryColumns: ['party_name', 'party_code', 'decision_no', 'decision_date'],
  pilotCodes: new Set(['91110000600037341M']),
  publicationWorkingDays: 7,
  fineMarker: '罚款',
  calendar,
  today: '2026-11-30',
};

describe('bindParameters', () => {
  it('numbers parameters by first use and leaves casts alone', () => {
    const { text, params } = bindParameters(
      "SELECT x::text FROM t WHERE a >= :month_start::timestamptz AND b <= :now::timestamptz AND c > :month_start AND d = ':today'",
      { now: 'N', month_start: 'M', today: 'T' },
    );
    expect(text).toBe(
      "SELECT x::text FROM t WHERE a >= $1::timestamptz AND b <= $2::timestamptz AND c > $1 AND d = '$3'",
    );
    expect(params).toEqual(['M', 'N', 'T']);
  });
});

describe('evaluateRecords', () => {
  const base = {
    department: 'D01',
    party_kind: 'legal',
    party_name: '某公司',
    party_code: '91110000600037341L',
    decision_no: 'A-1',
    decision_date: '2026-11-02',
    published_at: '2026-11-03T02:00:00Z',
  };
  it('judges each rule and the 双公示 lag in working days', () => {
    const f = evaluateRecords(
      [
        base,
        { ...base, decision_no: 'A-1' }, // duplicate
        { ...base, decision_no: 'A-2', party_code: '91110000600037341M' }, // pilot: valid
        { ...base, decision_no: 'A-3', party_code: '91110000600037341N' }, // broken check character
        { ...base, decision_no: 'A-4', party_kind: 'natural', party_code: '11010519491231002X' }, // valid ID
        { ...base, decision_no: 'A-5', party_name: ' ' }, // blank mandatory field
        { ...base, decision_no: 'A-6', decision_date: '2026-12-05', published_at: null }, // future
        { ...base, decision_no: 'A-7', penalty_type: '罚款', fine_amount: null },
        // Decided on Friday 2026-10-30; 7 working days end on 2026-11-10.
        { ...base, decision_no: 'A-8', decision_date: '2026-10-30', published_at: '2026-11-10T15:59:00Z' },
        { ...base, decision_no: 'A-9', decision_date: '2026-10-30', published_at: '2026-11-10T16:00:00Z' },
        { ...base, decision_no: 'A-10', decision_date: '2026-11-18', published_at: null }, // overdue on 11-30
        { ...base, decision_no: 'A-11', decision_date: '2026-11-24', published_at: null }, // not yet due
      ],
      rules,
    ).get('D01')!;
    expect(f.submitted).toBe(12);
    expect(f.invalid).toEqual({ code: 1, mandatory: 1, date: 1, duplicate: 1, fine: 1 });
    expect(f.valid).toBe(7);
    expect(f.pilot).toBe(1);
    expect(f.mandatoryPresent).toBe(47);
    expect(f.mandatoryRequired).toBe(48);
    // Published: 9 rows (all but ); A-9 is late (11-11 local); A-10 overdue.
    expect(f.timelyBase).toBe(10);
    expect(f.onTime).toBe(8);
    expect(f.overdue).toBe(1);
    expect(f.overdueSamples).toEqual(['A-10']);
    expect(f.maxLagWorkingDays).toBe(8);
  });
});

describe('evaluateReconciliation', () => {
  const rows = [
    { day: '2026-11-28', local_count: 10, acknowledged_count: 10 },
    { day: '2026-11-29', local_count: 12, acknowledged_count: 9 },
    { day: '2026-11-30', local_count: 5, acknowledged_count: 0 },
  ];
  it('keeps a difference pending until the due hour of the next day, then overdue', () => {
    const before = evaluateReconciliation(rows, calendar, Date.parse('2026-11-30T11:59:00+08:00'), 12);
    expect(before).toEqual({ overdueDifference: 0, overdueDays: [], pendingDifference: 8 });
    const after = evaluateReconciliation(rows, calendar, Date.parse('2026-11-30T12:00:00+08:00'), 12);
    expect(after).toEqual({ overdueDifference: 3, overdueDays: ['2026-11-29'], pendingDifference: 5 });
  });
});

describe('cardinality cap', () => {
  it('keeps maxDepartments departments with series and counts the rest as dropped', () => {
    const options = {
      timeZone: 'Asia/Shanghai',
      connectTimeoutSeconds: 5,
      defaultCadenceDays: 7,
      maxDepartments: 2,
      pilotCodes: [],
      publicationWorkingDays: 7,
      fineMarker: '罚款',
      validRateTarget: 0.95,
      completenessTarget: 0.95,
      onTimeTarget: 0.95,
      reconciliationDueHour: 12,
      reconciliationLookbackDays: 7,
      backlogMaxAgeDays: 30,
      previousMonthCircularUntilDay: 10,
      previousMonthCircularEverySeconds: 3600,
      datasets: [
        { name: 'penalty', title: '行政处罚', timeoutSeconds: 5, mandatoryColumns: [], freshness: 'x' },
      ],
    } as CreditDataOptions;
    const collector = new CreditDataCollector(options, undefined as never);
    const now = Date.parse('2026-11-30T07:00:00Z');
    const registry = new MetricRegistry();
    const verdicts: Verdict[] = [];
    const departments = ['D1', 'D2', 'D3', 'D4'].map((code) => ({ code, name: code, cadenceDays: 7 }));
    collector.write({ registry, report: (v) => verdicts.push(v) }, clockAt(now, calendar, 7), departments, [
      {
        dataset: options.datasets[0]!,
        queries: {
          freshness: {
            seconds: 0.1,
            rows: departments.map((d) => ({
              department: d.code,
              newest_at: new Date(now - 30 * 86_400_000),
            })),
          },
        },
      },
    ]);
    const families = registry.collect();
    const silent = families.find((f) => f.name === 'creditops_data_department_silent')!;
    expect(silent.samples.map((s) => s.labels.department)).toEqual(['D1', 'D2']);
    expect(families.find((f) => f.name === 'creditops_data_departments_dropped')!.samples[0]!.value).toBe(2);
    // The verdict still names every silent department.
    expect(verdicts[0]!.details).toEqual({ silent: ['D1', 'D2', 'D3', 'D4'] });
  });
});

describe('a year without holiday data', () => {
  it('leaves the 双公示 lag undetermined instead of judging it Monday to Friday', () => {
    const f = evaluateRecords(
      [
        {
          department: 'D01',
          party_kind: 'legal',
          party_code: '91110000600037341L',
          decision_no: 'B-1',
          decision_date: '2027-01-04',
          published_at: null,
        },
      ],
      { ...rules, mandatoryColumns: [], today: '2027-02-20' },
    ).get('D01')!;
    expect(f.undetermined).toBe(1);
    expect(f.overdue).toBe(0);
    expect(f.timelyBase).toBe(0);
  });
});

describe('descriptor', () => {
  it('creates an idle collector from an empty section', async () => {
    const { creditData } = await import('./collector.js');
    const collector = creditData.create({} as never, { log: undefined as never });
    const registry = new MetricRegistry();
    await collector.collect({ registry, report: () => undefined, now: Date.now } as never);
    expect(registry.collect()).toEqual([]);
    await collector.close?.();
  });
});
