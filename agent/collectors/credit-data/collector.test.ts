/**
 * The credit-data collector against a real PostgreSQL loaded with the generated month of
 * examples/credit-db, configured by examples/credit-db/creditops-agent.yaml: every metric and
 * verdict is compared with the generator's ground truth (computed record by record in the generator,
 * not by the SQL under test).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addUser } from '../../../collector/store/users.js';
import { payload, testCollector } from '../../../collector/test-helper.js';
import {
  type DatasetName,
  type DatasetTruth,
  type GroundTruth,
  generate,
  loadInto,
} from '../../../examples/credit-db/generate.js';
import { WorkingDayCalendar } from '../../../lib/calendar/index.js';
import { hasServer, type PgServer, startPostgres } from '../../../test/helpers/postgres.js';
import { parseAgentConfig } from '../../config.js';
import { capturedLog, collectOnce, type RunResult } from '../postgres/test-kit.js';
import type { Verdict } from '../types.js';
import { CreditDataCollector } from './collector.js';
import { type CreditDataOptions, CreditDataOptionsSchema } from './options.js';

const major = hasServer(17) ? 17 : 14;
let server: PgServer;
let truth: GroundTruth;

function exampleOptions(): CreditDataOptions {
  const yaml = parse(
    readFileSync(new URL('../../../examples/credit-db/creditops-agent.yaml', import.meta.url), 'utf8'),
  ) as { collectors: { creditdata: Record<string, unknown> } };
  const raw = { ...yaml.collectors.creditdata };
  delete raw.intervalSeconds;
  delete raw.timeoutSeconds;
  raw.database = {
    ...(raw.database as object),
    host: '127.0.0.1',
    port: server.port,
    user: 'postgres',
    passwordEnv: undefined,
  };
  const options = Value.Default(CreditDataOptionsSchema, Value.Clean(CreditDataOptionsSchema, raw));
  const errors = [...Value.Errors(CreditDataOptionsSchema, options)];
  if (errors.length) throw new Error(`example configuration invalid: ${JSON.stringify(errors[0])}`);
  return options as CreditDataOptions;
}

beforeAll(async () => {
  server = await startPostgres({ major });
  await server.query('CREATE DATABASE credit');
  const g = generate({ seed: 42, records: 20_000, month: '2026-11' });
  truth = g.truth;
  await loadInto(g, server.connection('credit'));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

function sample(result: RunResult, name: string, labels: Record<string, string>): number | undefined {
  const family = result.families.find((f) => f.name === name);
  const s = family?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

function verdict(result: RunResult, check: string, target: string): Verdict {
  const v = result.verdicts.find((x) => x.check === check && x.target === target);
  if (!v) throw new Error(`no verdict ${check}/${target}`);
  return v;
}

describe('credit-data on the generated month', () => {
  let result: RunResult;
  let seconds: number;
  beforeAll(async () => {
    const { log } = capturedLog();
    const collector = new CreditDataCollector(exampleOptions(), log);
    const started = performance.now();
    result = await collectOnce(collector, log, { now: () => Date.parse(truth.now) });
    seconds = (performance.now() - started) / 1000;
    await collector.close();
  }, 60_000);

  it('runs every query successfully', () => {
    const family = result.families.find((f) => f.name === 'creditops_data_query_success')!;
    expect(family.samples.length).toBe(9);
    expect(family.samples.every((s) => s.value === 1)).toBe(true);
    expect(seconds).toBeLessThan(30);
  });

  const datasets: DatasetName[] = ['license', 'penalty'];
  it.each(datasets)('%s: freshness, timeliness and quality per department match the ground truth', (ds) => {
    const t: DatasetTruth = truth.datasets[ds];
    const now = Date.parse(truth.now);
    for (const [dept, d] of Object.entries(t.departments)) {
      const l = { dataset: ds, department: dept };
      expect
        .soft(sample(result, 'creditops_data_newest_record_timestamp_seconds', l), dept)
        .toBe(Date.parse(d.newestAt!) / 1000);
      expect
        .soft(sample(result, 'creditops_data_newest_record_age_seconds', l))
        .toBe((now - Date.parse(d.newestAt!)) / 1000);
      expect.soft(sample(result, 'creditops_data_records_today', l), dept).toBe(d.recordsToday);
      expect.soft(sample(result, 'creditops_data_records_month', l), dept).toBe(d.recordsMonth);
      expect.soft(sample(result, 'creditops_data_department_silent', l), dept).toBe(d.silent ? 1 : 0);
      expect.soft(sample(result, 'creditops_data_records_submitted', l), dept).toBe(d.recordsMonth);
      expect.soft(sample(result, 'creditops_data_publicity_overdue_records', l), dept).toBe(d.overdue);
      expect
        .soft(sample(result, 'creditops_data_publicity_on_time_ratio', l), dept)
        .toBeCloseTo(d.onTime / d.timelyBase, 12);
      expect
        .soft(sample(result, 'creditops_data_quality_valid_ratio', l), dept)
        .toBeCloseTo(d.valid / d.recordsMonth, 12);
      expect
        .soft(sample(result, 'creditops_data_quality_completeness_ratio', l), dept)
        .toBeCloseTo(d.mandatoryPresent / d.mandatoryRequired, 12);
      expect.soft(sample(result, 'creditops_data_quality_pilot_code_records', l), dept).toBe(d.pilot);
      for (const [reason, n] of Object.entries(d.invalid)) {
        expect
          .soft(
            sample(result, 'creditops_data_quality_invalid_records', { ...l, reason }),
            `${dept} ${reason}`,
          )
          .toBe(n);
      }
    }
  });

  it.each(datasets)('%s: verdicts match the ground truth', (ds) => {
    const t = truth.datasets[ds];
    const depts = Object.values(t.departments);
    const silent = Object.entries(t.departments).filter(([, d]) => d.silent);
    const fresh = verdict(result, 'data.freshness', ds);
    expect(fresh.status).toBe(silent.length > 0 ? 'WARN' : 'OK');
    expect((fresh.details as { silent: string[] }).silent).toEqual(silent.map(([c]) => c).sort());

    const late = depts.filter((d) => d.overdue > 0 || d.onTime / d.timelyBase < 0.95);
    expect(verdict(result, 'data.timeliness', ds).status).toBe(late.length > 0 ? 'WARN' : 'OK');
    expect(verdict(result, 'data.timeliness', ds).details?.overdue).toBe(
      depts.reduce((s, d) => s + d.overdue, 0),
    );
    const poor = depts.filter(
      (d) => d.valid / d.recordsMonth < 0.95 || d.mandatoryPresent / d.mandatoryRequired < 0.95,
    );
    expect(verdict(result, 'data.quality', ds).status).toBe(poor.length > 0 ? 'WARN' : 'OK');
    expect(verdict(result, 'data.quality', ds).details?.departments).toBe(poor.length);
  });

  it.each(datasets)('%s: reconciliation, non-standard backlog and credit repair match', (ds) => {
    const t = truth.datasets[ds];
    const l = { dataset: ds };
    expect(sample(result, 'creditops_data_reconciliation_open_difference_records', l)).toBe(
      t.reconciliation.overdueDifference,
    );
    expect(sample(result, 'creditops_data_reconciliation_open_days', l)).toBe(
      t.reconciliation.overdueDays.length,
    );
    expect(sample(result, 'creditops_data_reconciliation_pending_difference_records', l)).toBe(
      t.reconciliation.pendingDifference,
    );
    const rec = verdict(result, 'data.reconciliation', ds);
    expect(rec.status).toBe(t.reconciliation.overdueDays.length > 0 ? 'CRIT' : 'OK');
    expect(rec.details?.days).toEqual(t.reconciliation.overdueDays);
    for (const day of t.reconciliation.overdueDays) expect(rec.summary).toContain(day);

    expect(sample(result, 'creditops_data_nonstandard_backlog_items', l)).toBe(t.backlog.items);
    expect(sample(result, 'creditops_data_nonstandard_oldest_age_seconds', l)).toBe(
      (Date.parse(truth.now) - Date.parse(t.backlog.oldestAt!)) / 1000,
    );
    const ageDays = (Date.parse(truth.now) - Date.parse(t.backlog.oldestAt!)) / 86_400_000;
    expect(verdict(result, 'data.nonstandard', ds).status).toBe(ageDays > 30 ? 'WARN' : 'OK');

    if (ds === 'penalty') {
      const repair = verdict(result, 'data.repair', ds);
      expect(t.stillPublic.length).toBe(3);
      expect(repair.status).toBe('CRIT');
      for (const s of t.stillPublic) expect(repair.summary).toContain(s.decisionNo);
      expect(
        (repair.details as { records: { decisionNo: string; reason: string }[] }).records.map((r) => ({
          decisionNo: r.decisionNo,
          reason: r.reason,
        })),
      ).toEqual(t.stillPublic);
      for (const reason of ['repaired', 'expired'])
        expect(sample(result, 'creditops_data_repair_still_public_records', { dataset: ds, reason })).toBe(
          t.stillPublic.filter((s) => s.reason === reason).length,
        );
    }
  });

  it('reports the circular figures of the month per department', () => {
    const v = verdict(result, 'data.circular', truth.month);
    const lines = (
      v.details as {
        departments: {
          department: string;
          submitted: number;
          timelyBase: number;
          onTime: number;
          valid: number;
        }[];
      }
    ).departments;
    expect(lines).toHaveLength(40);
    for (const line of lines) {
      const per = datasets.map((ds) => truth.datasets[ds].departments[line.department]!);
      expect(line.submitted).toBe(per.reduce((s, d) => s + d.recordsMonth, 0));
      expect(line.timelyBase).toBe(per.reduce((s, d) => s + d.timelyBase, 0));
      expect(line.onTime).toBe(per.reduce((s, d) => s + d.onTime, 0));
      expect(line.valid).toBe(per.reduce((s, d) => s + d.valid, 0));
    }
  });

  it("feeds the collector's circular: ranks and totals from the pushed check result", async () => {
    const v = verdict(result, 'data.circular', truth.month);
    const c = await testCollector();
    try {
      const agent = await c.enroll('credit-db-01');
      const { token } = await addUser(c.store, 'bureau', 'viewer');
      const push = await c.push(
        agent,
        payload('credit-db-01', [], [{ seq: 1, ...v, observedAt: truth.now } as never]),
      );
      expect(push.statusCode, push.body).toBe(200);
      const res = await c.app.inject({
        method: 'GET',
        url: `/api/v1/reports/circular?month=${truth.month}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      const depts = Object.keys(truth.datasets.penalty.departments);
      const total = (f: (d: DatasetTruth['departments'][string]) => number) =>
        datasets.reduce(
          (s, ds) => s + depts.reduce((t, d) => t + f(truth.datasets[ds].departments[d]!), 0),
          0,
        );
      expect(body.totals).toMatchObject({
        departments: 40,
        submitted: total((d) => d.recordsMonth),
        onTime: total((d) => d.onTime),
        timelyBase: total((d) => d.timelyBase),
        valid: total((d) => d.valid),
      });
      expect(body.departments.map((d: { rank: number }) => d.rank)[0]).toBe(1);
      const csv = await c.app.inject({
        method: 'GET',
        url: `/api/v1/reports/circular?month=${truth.month}&format=csv`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(csv.body.startsWith('\uFEFF排名,')).toBe(true);
      expect(csv.body.trimEnd().split('\r\n')).toHaveLength(42);
    } finally {
      await c.close();
    }
  });

  it('has Chinese summaries', () => {
    for (const v of result.verdicts) expect(v.summary).toMatch(/\p{Script=Han}/u);
  });
});

describe("the previous month's circular", () => {
  it('is recomputed early in the next month, from the same records, judged as of that day', async () => {
    const { log } = capturedLog();
    const collector = new CreditDataCollector(exampleOptions(), log);
    try {
      const result = await collectOnce(collector, log, { now: () => Date.parse('2026-12-03T02:00:00Z') });
      const v = verdict(result, 'data.circular', '2026-11');
      const lines = (v.details as { departments: { department: string; submitted: number; valid: number }[] })
        .departments;
      for (const line of lines) {
        const per = (['license', 'penalty'] as const).map(
          (ds) => truth.datasets[ds].departments[line.department]!,
        );
        expect(line.submitted).toBe(per.reduce((sum, d) => sum + d.recordsMonth, 0));
        expect(line.valid).toBe(per.reduce((sum, d) => sum + d.valid, 0));
      }
      // Reported again only after previousMonthCircularEverySeconds.
      const again = await collectOnce(collector, log, { now: () => Date.parse('2026-12-03T02:05:00Z') });
      expect(again.verdicts.some((x) => x.check === 'data.circular' && x.target === '2026-11')).toBe(false);
    } finally {
      await collector.close();
    }
  });
});

describe('across the month boundary', () => {
  const datasets: DatasetName[] = ['license', 'penalty'];
  // 2026-12-03 10:00 in Shanghai: November's unpublished records are all long overdue, and
  // nothing has arrived in December yet.
  const now = Date.parse('2026-12-03T02:00:00Z');
  let first: RunResult;
  let later: RunResult;
  beforeAll(async () => {
    const { log } = capturedLog();
    const collector = new CreditDataCollector(exampleOptions(), log);
    try {
      first = await collectOnce(collector, log, { now: () => now });
      // Between two readings of the previous month's circular: still judged.
      later = await collectOnce(collector, log, { now: () => now + 300_000 });
    } finally {
      await collector.close();
    }
  }, 60_000);

  it.each(datasets)(
    "%s: the previous month's overdue records keep data.timeliness from clearing",
    async (ds) => {
      const calendar = new WorkingDayCalendar({ timeZone: 'Asia/Shanghai' });
      // Counted here from the rows and the calendar: November's unpublished records, 7 working days past.
      const rows = await server.query<{ decision_date: string }>(
        `SELECT decision_date::text AS decision_date FROM ${ds}_record
       WHERE published_at IS NULL AND decision_date <= '2026-11-30'
         AND received_at >= '2026-10-31T16:00:00Z' AND received_at < '2026-11-30T16:00:00Z'`,
        [],
        'credit',
      );
      const overdue = rows.filter((r) => calendar.workingDaysBetween(r.decision_date, '2026-12-03').days > 7);
      expect(overdue.length).toBeGreaterThan(0);
      for (const result of [first, later]) {
        const v = verdict(result, 'data.timeliness', ds);
        expect(v.status).toBe('WARN');
        expect(v.details?.overdue).toBe(overdue.length);
        expect(v.details?.since).toBe('2026-11');
        expect(v.summary).toContain(`未公示 ${overdue.length} 条`);
        expect(verdict(result, 'data.quality', ds).status).not.toBe('UNKNOWN');
      }
    },
  );

  it("reports the current month's circular with every department at zero before anything arrives", () => {
    for (const result of [first, later]) {
      const v = verdict(result, 'data.circular', '2026-12');
      const lines = (
        v.details as {
          departments: { submitted: number; timelyBase: number; onTime: number; valid: number }[];
        }
      ).departments;
      expect(lines).toHaveLength(40);
      for (const line of lines)
        expect(line).toMatchObject({ submitted: 0, timelyBase: 0, onTime: 0, valid: 0 });
    }
  });
});

describe('the portal search page', () => {
  const withdrawnSql = `
    SELECT r.decision_no, r.department_code AS department, 'repaired' AS reason, c.approved_at AS at
    FROM credit_repair c JOIN penalty_record r ON r.id = c.record_id
    WHERE c.dataset = 'penalty' AND c.approved_at >= :now::timestamptz - interval '30 days'
    UNION ALL
    SELECT decision_no, department_code, 'expired', publicity_end::timestamptz
    FROM penalty_record
    WHERE publicity_end < :today::date AND publicity_end >= :today::date - 30
    ORDER BY at DESC`; // as commented in examples/credit-db/creditops-agent.yaml
  let portal: Server;
  let portalUrl: string;
  let shown: string[] = [];
  let requests: string[] = [];
  let status = 200;
  beforeAll(async () => {
    portal = createServer((req, res) => {
      const keyword = new URL(req.url!, 'http://x').searchParams.get('keyword') ?? '';
      requests.push(keyword);
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<html><body>${shown.includes(keyword) ? `<td>${keyword}</td>` : '<p>没有找到相关记录</p>'}</body></html>`,
      );
    });
    await new Promise<void>((r) => portal.listen(0, '127.0.0.1', () => r()));
    portalUrl = `http://127.0.0.1:${(portal.address() as AddressInfo).port}/xzcf/search?keyword={decisionNo}`;
  });
  afterAll(async () => {
    await new Promise((r) => portal.close(r));
  });

  async function run(): Promise<RunResult> {
    const base = exampleOptions();
    const penalty = { ...base.datasets.find((d) => d.name === 'penalty')!, withdrawn: withdrawnSql };
    const options: CreditDataOptions = {
      ...base,
      datasets: [penalty],
      portalSearch: { urlTemplate: portalUrl, timeoutSeconds: 2, maxLookups: 20 },
    };
    const { log } = capturedLog();
    const collector = new CreditDataCollector(options, log);
    try {
      return await collectOnce(collector, log, { now: () => Date.parse(truth.now) });
    } finally {
      await collector.close();
    }
  }

  it('is CRIT for a repaired record the search page still finds, naming its decision number', async () => {
    const repaired = await server.query<{ decision_no: string }>(
      'SELECT decision_no FROM credit_repair ORDER BY id',
      [],
      'credit',
    );
    expect(repaired).toHaveLength(6);
    // One of the properly withdrawn ones is still indexed by the portal.
    shown = [repaired[0]!.decision_no];
    requests = [];
    status = 200;
    const result = await run();
    expect(requests.sort()).toEqual(repaired.map((r) => r.decision_no).sort());
    const v = verdict(result, 'data.repair.portal', 'penalty');
    expect(v.status).toBe('CRIT');
    expect(v.summary).toContain(repaired[0]!.decision_no);
    expect(sample(result, 'creditops_data_repair_portal_found_records', { dataset: 'penalty' })).toBe(1);
  });

  it('is OK when nothing is found, UNKNOWN when the page cannot be read', async () => {
    shown = [];
    status = 200;
    expect(verdict(await run(), 'data.repair.portal', 'penalty').status).toBe('OK');
    status = 503;
    const down = verdict(await run(), 'data.repair.portal', 'penalty');
    expect(down.status).toBe('UNKNOWN');
    expect(down.summary).toContain('HTTP 503');
  });
});

describe('examples/credit-db/creditops-agent.yaml', () => {
  it("passes the agent's configuration check", () => {
    const text = readFileSync(
      new URL('../../../examples/credit-db/creditops-agent.yaml', import.meta.url),
      'utf8',
    );
    const config = parseAgentConfig(text, 'creditops-agent.yaml');
    const section = config.collectors.creditdata as unknown as { datasets: { name: string }[] };
    expect(section.datasets.map((d) => d.name)).toEqual(['license', 'penalty']);
  });
});

describe('a slow or failing dataset', () => {
  it('gives UNKNOWN with the reason and does not hold up the others', async () => {
    const base = exampleOptions();
    const penalty = base.datasets.find((d) => d.name === 'penalty')!;
    const options: CreditDataOptions = {
      ...base,
      datasets: [
        {
          name: 'slow',
          title: '慢查询',
          timeoutSeconds: 1,
          mandatoryColumns: [],
          records: 'SELECT pg_sleep(30)',
        },
        {
          name: 'broken',
          title: '错误查询',
          timeoutSeconds: 5,
          mandatoryColumns: [],
          freshness: 'SELECT * FROM no_such_table',
          backlog: penalty.backlog!,
        },
        penalty,
      ],
    };
    const { log } = capturedLog();
    const collector = new CreditDataCollector(options, log);
    const started = performance.now();
    const result = await collectOnce(collector, log, { now: () => Date.parse(truth.now) });
    const seconds = (performance.now() - started) / 1000;
    await collector.close();
    expect(seconds).toBeLessThan(10);

    const slowT = verdict(result, 'data.timeliness', 'slow');
    expect(slowT.status).toBe('UNKNOWN');
    expect(slowT.summary).toContain('statement timeout');
    expect(verdict(result, 'data.quality', 'slow').status).toBe('UNKNOWN');
    const broken = verdict(result, 'data.freshness', 'broken');
    expect(broken.status).toBe('UNKNOWN');
    expect(broken.summary).toContain('no_such_table');
    // The broken query's savepoint keeps the rest of its dataset working.
    expect(verdict(result, 'data.nonstandard', 'broken').status).not.toBe('UNKNOWN');
    expect(sample(result, 'creditops_data_query_success', { dataset: 'broken', query: 'freshness' })).toBe(0);
    expect(sample(result, 'creditops_data_query_success', { dataset: 'broken', query: 'backlog' })).toBe(1);
    // The healthy dataset is judged as usual.
    expect(verdict(result, 'data.repair', 'penalty').status).toBe('CRIT');
    expect(verdict(result, 'data.reconciliation', 'penalty').status).toBe('CRIT');
  }, 30_000);

  it('answers UNKNOWN when the database cannot be reached', async () => {
    const base = exampleOptions();
    const options: CreditDataOptions = {
      ...base,
      database: { ...base.database!, port: 1 },
      connectTimeoutSeconds: 2,
    };
    const { log } = capturedLog();
    const collector = new CreditDataCollector(options, log);
    const result = await collectOnce(collector, log, { now: () => Date.parse(truth.now) });
    await collector.close();
    expect(verdict(result, 'data.freshness', 'penalty').status).toBe('UNKNOWN');
    expect(verdict(result, 'data.repair', 'penalty').status).toBe('UNKNOWN');
    expect(result.verdicts.find((v) => v.check === 'data.departments')?.status).toBe('UNKNOWN');
  });
});
