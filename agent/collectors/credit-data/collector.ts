/**
 * The creditdata collector (registry key and configuration section `creditdata`): watches the credit data itself (DOMAIN.md §4). The credit database's
 * schema differs from city to city, so the checks are configured: named datasets, each with
 * read-only SQL whose rows this collector turns into creditops_data_* metrics and verdicts.
 *
 * Each dataset runs on its own connection, in its own READ ONLY transaction whose statements carry
 * the dataset's statement_timeout, and under its own deadline in the agent: a slow or failing query
 * gives UNKNOWN verdicts for that dataset with the reason, and the other datasets carry on. Every
 * query of a dataset runs under a savepoint, so one failing query does not take the others with it.
 *
 * Query parameters, written `:name` in the SQL and bound as text (cast them: `:now::timestamptz`):
 * now, today (YYYY-MM-DD), today_start, month (YYYY-MM), month_start, month_end, lookback_start
 * (YYYY-MM-DD). All are computed from the agent's clock in the configured time zone.
 */
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { type CalendarOverrides, WorkingDayCalendar } from '../../../lib/calendar/index.js';
import type { MetricRegistry } from '../../../lib/metrics.js';
import type { CheckStatus } from '../../../lib/wire/push.js';
import { type Queryer, ServerSession } from '../postgres/session.js';
import type { CollectContext, Collector, CollectorDescriptor } from '../types.js';
import {
  evaluateReconciliation,
  evaluateRecords,
  INVALID_REASONS,
  instantOf,
  numberOf,
  type ReconciliationFigures,
  type RecordFigures,
  type Row,
} from './evaluate.js';
import { type CreditDataOptions, CreditDataOptionsSchema, type DatasetOptions } from './options.js';
import { type Fetch, searchPortal } from './portal-search.js';

export const QUERY_KINDS = [
  'freshness',
  'records',
  'reconciliation',
  'backlog',
  'stillPublic',
  'withdrawn',
] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

const PARAM_RE = /(?<!:):(now|today_start|today|month_start|month_end|month|lookback_start)\b/g;

/** Replaces `:name` parameters with $1, $2… in order of first use; returns the values to bind. */
export function bindParameters(
  sql: string,
  values: Record<string, string>,
): { text: string; params: string[] } {
  const order: string[] = [];
  const text = sql.replace(PARAM_RE, (_, name: string) => {
    let i = order.indexOf(name);
    if (i < 0) {
      order.push(name);
      i = order.length - 1;
    }
    return `$${i + 1}`;
  });
  return { text, params: order.map((n) => values[n]!) };
}

export interface QueryOutcome {
  rows?: Row[];
  error?: string;
  seconds: number;
}

export interface DatasetOutcome {
  dataset: DatasetOptions;
  queries: Partial<Record<QueryKind, QueryOutcome>>;
  /** The records query over the previous month, when clock.previous is set. */
  previousRecords?: QueryOutcome;
  /** Set when the dataset as a whole failed (no connection, deadline passed). */
  error?: string;
}

export interface Clock {
  now: number;
  today: string;
  month: string;
  params: Record<string, string>;
  /**
   * Set early in the month (until previousMonthCircularUntilDay): the previous month's records are
   * read too, so its overdue records keep counting in data.timeliness and data.quality. `circular`
   * false: judged, but its circular not reported this cycle (previousMonthCircularEverySeconds).
   */
  previous?: { month: string; params: Record<string, string>; circular?: boolean };
}

/** The same clock, with the previous month's records window added. */
export function withPreviousMonth(clock: Clock, calendar: WorkingDayCalendar): Clock {
  const [y, m] = clock.month.split('-').map(Number) as [number, number];
  const month = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  const startOf = (date: string) =>
    calendar
      .endOfDay(new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10))
      .toISOString();
  return {
    ...clock,
    previous: {
      month,
      params: {
        ...clock.params,
        month,
        month_start: startOf(`${month}-01`),
        month_end: clock.params.month_start!,
      },
    },
  };
}

export function clockAt(now: number, calendar: WorkingDayCalendar, lookbackDays: number): Clock {
  const today = calendar.civilDate(new Date(now));
  const month = today.slice(0, 7);
  const shift = (date: string, days: number) =>
    new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  const startOf = (date: string) => calendar.endOfDay(shift(date, -1)).toISOString();
  const [y, m] = month.split('-').map(Number) as [number, number];
  const nextMonth = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return {
    now,
    today,
    month,
    params: {
      now: new Date(now).toISOString(),
      today,
      today_start: startOf(today),
      month,
      month_start: startOf(`${month}-01`),
      month_end: startOf(nextMonth),
      lookback_start: shift(today, -lookbackDays),
    },
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs one dataset's queries in a READ ONLY transaction, each under a savepoint. */
async function runDataset(q: Queryer, dataset: DatasetOptions, clock: Clock): Promise<DatasetOutcome> {
  const out: DatasetOutcome = { dataset, queries: {} };
  await q.query('BEGIN TRANSACTION READ ONLY');
  try {
    await q.query(`SET LOCAL statement_timeout = ${Math.ceil(dataset.timeoutSeconds * 1000)}`);
    for (const kind of QUERY_KINDS) {
      const sql = dataset[kind];
      if (!sql) continue;
      const { text, params } = bindParameters(sql, clock.params);
      const started = performance.now();
      await q.query('SAVEPOINT creditops_query');
      try {
        const rows = await q.query(text, params);
        out.queries[kind] = { rows, seconds: (performance.now() - started) / 1000 };
        await q.query('RELEASE SAVEPOINT creditops_query');
      } catch (error) {
        out.queries[kind] = { error: message(error), seconds: (performance.now() - started) / 1000 };
        await q.query('ROLLBACK TO SAVEPOINT creditops_query');
      }
    }
    if (clock.previous && dataset.records) {
      const { text, params } = bindParameters(dataset.records, clock.previous.params);
      const started = performance.now();
      await q.query('SAVEPOINT creditops_query');
      try {
        out.previousRecords = {
          rows: await q.query(text, params),
          seconds: (performance.now() - started) / 1000,
        };
        await q.query('RELEASE SAVEPOINT creditops_query');
      } catch (error) {
        out.previousRecords = { error: message(error), seconds: (performance.now() - started) / 1000 };
        await q.query('ROLLBACK TO SAVEPOINT creditops_query');
      }
    }
  } finally {
    await q.query('ROLLBACK');
  }
  return out;
}

function withDeadline<T>(work: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

interface Department {
  code: string;
  name: string;
  cadenceDays: number;
}

/** Per department of the month, summed over datasets: what the 月度通报 is made of. */
export interface CircularLine {
  department: string;
  name: string;
  submitted: number;
  timelyBase: number;
  onTime: number;
  valid: number;
}

function lastDayOf(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
}

function addToCircular(
  circular: Map<string, CircularLine>,
  figures: Map<string, RecordFigures>,
  nameOf: (code: string) => string,
): void {
  for (const [dept, f] of figures) {
    const line = circular.get(dept) ?? {
      department: dept,
      name: nameOf(dept),
      submitted: 0,
      timelyBase: 0,
      onTime: 0,
      valid: 0,
    };
    line.submitted += f.submitted;
    line.timelyBase += f.timelyBase;
    line.onTime += f.onTime;
    line.valid += f.valid;
    circular.set(dept, line);
  }
}

/** Adds the previous month's figures to this month's, per department: what the verdicts judge. */
function mergeFigures(
  a: Map<string, RecordFigures>,
  b: Map<string, RecordFigures>,
): Map<string, RecordFigures> {
  const out = new Map<string, RecordFigures>();
  for (const [dept, f] of [...a, ...b]) {
    const m = out.get(dept);
    if (!m) {
      out.set(dept, { ...f, invalid: { ...f.invalid }, overdueSamples: [...f.overdueSamples] });
      continue;
    }
    m.submitted += f.submitted;
    m.valid += f.valid;
    m.pilot += f.pilot;
    for (const r of INVALID_REASONS) m.invalid[r] += f.invalid[r];
    m.mandatoryPresent += f.mandatoryPresent;
    m.mandatoryRequired += f.mandatoryRequired;
    m.timelyBase += f.timelyBase;
    m.onTime += f.onTime;
    m.overdue += f.overdue;
    m.maxLagWorkingDays = Math.max(m.maxLagWorkingDays, f.maxLagWorkingDays);
    m.overdueSamples = [...m.overdueSamples, ...f.overdueSamples].slice(0, 5);
    m.undetermined += f.undetermined;
  }
  return out;
}

function ratio(a: number, b: number): number | undefined {
  return b > 0 ? a / b : undefined;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function listNames(items: string[], max = 5): string {
  return items.length <= max ? items.join('、') : `${items.slice(0, max).join('、')} 等 ${items.length} 个`;
}

export class CreditDataCollector implements Collector {
  private readonly calendar: WorkingDayCalendar;
  private readonly session: ServerSession | undefined;
  private readonly running = new Map<string, Promise<unknown>>();
  private previousMonthAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: CreditDataOptions,
    log: Logger,
    env: NodeJS.ProcessEnv = process.env,
    private readonly fetchImpl: Fetch = fetch,
  ) {
    this.calendar = new WorkingDayCalendar({
      timeZone: options.timeZone,
      ...(options.calendarOverrides ? { overrides: options.calendarOverrides as CalendarOverrides } : {}),
    });
    const names = new Set<string>();
    for (const d of options.datasets) {
      if (names.has(d.name)) throw new Error(`creditdata: dataset "${d.name}" is configured twice`);
      names.add(d.name);
    }
    if (options.database) {
      const db = options.database;
      this.session = new ServerSession(
        {
          name: db.name,
          host: db.host,
          port: db.port,
          user: db.user,
          database: db.database,
          passwordEnv: db.passwordEnv,
          passwordFile: db.passwordFile,
          sslmode: db.sslmode,
        },
        {
          // One connection per dataset and one for the departments, so none waits for another.
          maxConnections: options.datasets.length + 1,
          connectTimeoutMs: options.connectTimeoutSeconds * 1000,
          statementTimeoutMs: Math.max(...options.datasets.map((d) => d.timeoutSeconds), 30) * 1000,
          lockTimeoutMs: 1000,
          backoffInitialMs: 1000,
          backoffMaxMs: 300_000,
          applicationName: 'creditops-agent credit-data',
          now: Date.now,
          log,
          env,
        },
      );
    }
  }

  async close(): Promise<void> {
    await this.session?.close();
  }

  /** Runs every dataset at once; each settles on its own (rows, error, or deadline). */
  async query(clock: Clock): Promise<{ departments: Department[] | string; outcomes: DatasetOutcome[] }> {
    const session = this.session!;
    const database = this.options.database!.database;
    const departmentsSql = this.options.departments;
    const runOne = (key: string, seconds: number, work: (q: Queryer) => Promise<unknown>) => {
      if (this.running.has(key)) {
        return Promise.reject(
          new Error(`the previous run of ${key} has not finished yet (still at the database)`),
        );
      }
      const p = session.withConnection(database, work);
      this.running.set(key, p);
      p.finally(() => this.running.delete(key)).catch(() => undefined);
      return withDeadline(p, seconds + 2, key);
    };
    const deptPromise: Promise<Department[] | string> = departmentsSql
      ? runOne('departments', 30, async (q) => {
          await q.query('BEGIN TRANSACTION READ ONLY');
          try {
            await q.query('SET LOCAL statement_timeout = 30000');
            const { text, params } = bindParameters(departmentsSql, clock.params);
            return await q.query(text, params);
          } finally {
            await q.query('ROLLBACK');
          }
        })
          .then((rows) =>
            (rows as Row[]).map((r) => ({
              code: String(r.department),
              name: r.name === null || r.name === undefined ? String(r.department) : String(r.name),
              cadenceDays: numberOf(r.cadence_days) || this.options.defaultCadenceDays,
            })),
          )
          .catch((e: unknown) => `部门查询失败：${message(e)}`)
      : Promise.resolve([]);
    const outcomes = Promise.all(
      this.options.datasets.map((dataset) =>
        runOne(`dataset ${dataset.name}`, dataset.timeoutSeconds, (q) => runDataset(q, dataset, clock))
          .then((o) => o as DatasetOutcome)
          .catch((e: unknown): DatasetOutcome => ({ dataset, queries: {}, error: message(e) })),
      ),
    );
    return { departments: await deptPromise, outcomes: await outcomes };
  }

  async collect(ctx: CollectContext): Promise<void> {
    if (!this.session || this.options.datasets.length === 0) return;
    let clock = clockAt(ctx.now(), this.calendar, this.options.reconciliationLookbackDays);
    const until = this.options.previousMonthCircularUntilDay;
    if (until > 0 && Number(clock.today.slice(8, 10)) <= until) {
      // Read every cycle: the previous month's overdue records still count in the verdicts.
      clock = withPreviousMonth(clock, this.calendar);
      const circular =
        clock.now - this.previousMonthAt >= this.options.previousMonthCircularEverySeconds * 1000;
      if (circular) this.previousMonthAt = clock.now;
      clock.previous!.circular = circular;
    }
    const { departments, outcomes } = await this.query(clock);
    this.write(ctx, clock, departments, outcomes);
    await this.searchPortal(ctx, outcomes);
  }

  /** data.repair.portal: withdrawn records still found by the portal's search page. */
  async searchPortal(
    ctx: Pick<CollectContext, 'registry' | 'report'>,
    outcomes: DatasetOutcome[],
  ): Promise<void> {
    const portal = this.options.portalSearch;
    if (!portal) return;
    for (const outcome of outcomes) {
      const ds = outcome.dataset;
      if (!ds.withdrawn) continue;
      const q = outcome.queries.withdrawn;
      if (!q?.rows) {
        const error = outcome.error ?? q?.error ?? 'no result';
        ctx.report({
          check: 'data.repair.portal',
          target: ds.name,
          status: 'UNKNOWN',
          summary: `${ds.title}：withdrawn 查询未完成，无法到门户网站核查（${error}）`,
          details: { error },
        });
        continue;
      }
      const items = q.rows.map((r) => ({
        decisionNo: String(r.decision_no ?? ''),
        department: String(r.department ?? ''),
        reason: String(r.reason ?? ''),
      }));
      const result = await searchPortal(items, portal, this.fetchImpl);
      ctx.registry
        .gauge(
          'creditops_data_repair_portal_found_records',
          'Withdrawn (repaired or expired) records the portal search page still shows (must be 0).',
        )
        .set({ dataset: ds.name }, result.found.length);
      ctx.registry
        .gauge('creditops_data_repair_portal_lookup_errors', 'Portal search look-ups that failed this cycle.')
        .set({ dataset: ds.name }, result.errors.length);
      const found = result.found.map((f) => f.decisionNo);
      let status: CheckStatus = 'OK';
      let summary = `${ds.title}：门户网站搜索核查 ${result.checked} 条已撤下记录，均已查不到`;
      if (found.length > 0) {
        status = 'CRIT';
        summary = `${ds.title}：${found.length} 条已信用修复或期满的记录仍能在门户网站搜索到：${listNames(found)}，须立即撤下`;
      } else if (result.checked > 0 && result.errors.length === result.checked) {
        status = 'UNKNOWN';
        summary = `${ds.title}：门户网站搜索页无法访问，无法核查（${result.errors[0]!.error}）`;
      } else if (result.errors.length > 0) {
        summary += `（${result.errors.length} 次查询失败）`;
      }
      ctx.report({
        check: 'data.repair.portal',
        target: ds.name,
        status,
        summary,
        details: { checked: result.checked, found: result.found, errors: result.errors.slice(0, 10) },
      });
    }
  }

  /** Turns query outcomes into metrics and verdicts (exported for tests and the bench). */
  write(
    ctx: Pick<CollectContext, 'registry' | 'report'>,
    clock: Clock,
    departmentsOrError: Department[] | string,
    outcomes: DatasetOutcome[],
  ): void {
    const o = this.options;
    const reg = ctx.registry;
    const departments = typeof departmentsOrError === 'string' ? [] : departmentsOrError;
    if (typeof departmentsOrError === 'string') {
      ctx.report({ check: 'data.departments', status: 'UNKNOWN', summary: departmentsOrError });
    }
    const deptByCode = new Map(departments.map((d) => [d.code, d]));
    const info = reg.gauge('creditops_data_department_info', 'A department expected to report; value 1.');
    const kept = new Set([...deptByCode.keys()].sort().slice(0, o.maxDepartments));
    for (const code of kept) info.set({ department: code, name: deptByCode.get(code)!.name }, 1);
    const nameOf = (code: string) => deptByCode.get(code)?.name ?? code;

    const success = reg.gauge(
      'creditops_data_query_success',
      'Whether the dataset query succeeded (1) or not (0).',
    );
    const duration = reg.gauge('creditops_data_query_duration_seconds', 'How long the dataset query took.');
    const dropped = reg.gauge(
      'creditops_data_departments_dropped',
      'Departments beyond maxDepartments whose figures have no series of their own.',
    );
    const circular = new Map<string, CircularLine>();
    let recordsRead = false;
    const previousFigures = (outcome: DatasetOutcome): Map<string, RecordFigures> | undefined => {
      const rows = outcome.previousRecords?.rows;
      if (!clock.previous || !rows) return undefined;
      return evaluateRecords(rows, {
        mandatoryColumns: outcome.dataset.mandatoryColumns,
        pilotCodes: new Set(o.pilotCodes),
        publicationWorkingDays: o.publicationWorkingDays,
        fineMarker: o.fineMarker,
        calendar: this.calendar,
        today: clock.today,
        latestDecisionDate: lastDayOf(clock.previous.month),
      });
    };

    for (const outcome of outcomes) {
      const ds = outcome.dataset;
      const labelsOf = (department: string) => ({ dataset: ds.name, department });
      const extra = new Set<string>();
      const allow = (code: string) => {
        if (kept.has(code)) return true;
        if (kept.size < o.maxDepartments) {
          kept.add(code);
          return true;
        }
        extra.add(code);
        return false;
      };
      for (const kind of QUERY_KINDS) {
        if (!ds[kind]) continue;
        const q = outcome.queries[kind];
        success.set({ dataset: ds.name, query: kind }, q?.rows ? 1 : 0);
        if (q) duration.set({ dataset: ds.name, query: kind }, q.seconds);
      }
      const failed = (kind: QueryKind): string | undefined => {
        if (!ds[kind]) return undefined;
        if (outcome.error) return outcome.error;
        const q = outcome.queries[kind];
        return q?.rows ? undefined : (q?.error ?? 'no result');
      };
      const unknown = (check: string, kind: QueryKind, error: string) =>
        ctx.report({
          check,
          target: ds.name,
          status: 'UNKNOWN',
          summary: `${ds.title}：${kind} 查询未完成，无法判断（${error}）`,
          details: { dataset: ds.name, query: kind, error },
        });

      // --- freshness ---
      if (ds.freshness) {
        const error = failed('freshness');
        if (error) unknown('data.freshness', 'freshness', error);
        else
          this.freshness(reg, ds, clock, outcome.queries.freshness!.rows!, departments, allow, labelsOf, ctx);
      }

      // --- records: 双公示 timeliness, quality, circular ---
      if (ds.records) {
        const error = failed('records');
        if (error) {
          unknown('data.timeliness', 'records', error);
          unknown('data.quality', 'records', error);
        } else {
          const figures = evaluateRecords(outcome.queries.records!.rows!, {
            mandatoryColumns: ds.mandatoryColumns,
            pilotCodes: new Set(o.pilotCodes),
            publicationWorkingDays: o.publicationWorkingDays,
            fineMarker: o.fineMarker,
            calendar: this.calendar,
            today: clock.today,
          });
          const previous = previousFigures(outcome);
          const judged = previous
            ? { figures: mergeFigures(figures, previous), since: clock.previous!.month }
            : undefined;
          // Without the previous month's records its overdue ones cannot be counted: not judged.
          const judge = !clock.previous || previous !== undefined;
          this.records(reg, ds, figures, allow, labelsOf, nameOf, ctx, judged, judge);
          addToCircular(circular, figures, nameOf);
          recordsRead = true;
          if (!judge) {
            const e = `${clock.previous!.month}：${outcome.previousRecords?.error ?? 'no result'}`;
            unknown('data.timeliness', 'records', e);
            unknown('data.quality', 'records', e);
          }
        }
      }

      // --- reconciliation ---
      if (ds.reconciliation) {
        const error = failed('reconciliation');
        if (error) unknown('data.reconciliation', 'reconciliation', error);
        else {
          const r = evaluateReconciliation(
            outcome.queries.reconciliation!.rows!,
            this.calendar,
            clock.now,
            o.reconciliationDueHour,
          );
          this.reconciliation(reg, ds, r, ctx);
        }
      }

      // --- non-standard backlog ---
      if (ds.backlog) {
        const error = failed('backlog');
        if (error) unknown('data.nonstandard', 'backlog', error);
        else {
          const row = outcome.queries.backlog!.rows![0] ?? {};
          const items = numberOf(row.items);
          const oldest = instantOf(row.oldest_at);
          const age = oldest === undefined ? 0 : Math.max(0, (clock.now - oldest) / 1000);
          reg
            .gauge('creditops_data_nonstandard_backlog_items', 'Open non-standard (非标) items.')
            .set({ dataset: ds.name }, items);
          reg
            .gauge(
              'creditops_data_nonstandard_oldest_age_seconds',
              'Age of the oldest open non-standard item.',
            )
            .set({ dataset: ds.name }, age);
          const days = age / 86_400;
          const status: CheckStatus = items > 0 && days > o.backlogMaxAgeDays ? 'WARN' : 'OK';
          ctx.report({
            check: 'data.nonstandard',
            target: ds.name,
            status,
            summary:
              items === 0
                ? `${ds.title}：非标数据已全部处理`
                : `${ds.title}：非标数据积压 ${items} 条，最早一条已等待 ${days.toFixed(1)} 天${status === 'WARN' ? `（超过 ${o.backlogMaxAgeDays} 天）` : ''}`,
            details: { items, oldestAgeSeconds: age },
          });
        }
      }

      // --- credit repair: repaired or expired penalties still public ---
      if (ds.stillPublic) {
        const error = failed('stillPublic');
        if (error) unknown('data.repair', 'stillPublic', error);
        else {
          const rows = outcome.queries.stillPublic!.rows!;
          const items = rows
            .map((r) => ({
              decisionNo: String(r.decision_no ?? ''),
              department: String(r.department ?? ''),
              reason: String(r.reason ?? ''),
            }))
            .sort((a, b) => a.decisionNo.localeCompare(b.decisionNo));
          const g = reg.gauge(
            'creditops_data_repair_still_public_records',
            'Repaired or expired records still on public display (must be 0).',
          );
          g.set(
            { dataset: ds.name, reason: 'repaired' },
            items.filter((i) => i.reason === 'repaired').length,
          );
          g.set({ dataset: ds.name, reason: 'expired' }, items.filter((i) => i.reason === 'expired').length);
          ctx.report({
            check: 'data.repair',
            target: ds.name,
            status: items.length > 0 ? 'CRIT' : 'OK',
            summary:
              items.length > 0
                ? `${ds.title}：${items.length} 条已信用修复或公示期满的记录仍在公示：${listNames(items.map((i) => `${i.decisionNo}（${i.reason === 'repaired' ? '已修复' : '已期满'}）`))}，须立即撤下`
                : `${ds.title}：已修复和期满的记录均已撤下公示`,
            details: { records: items.slice(0, 100) },
          });
        }
      }
      if (extra.size > 0) dropped.set({ dataset: ds.name }, extra.size);
    }

    // --- the month's circular (月度通报): figures pushed as details of a check result ---
    const withRecords = outcomes.filter((x) => x.dataset.records).map((x) => x.dataset.name);
    // Reported when a records query answered, even with no rows yet: every department at zero.
    if (recordsRead)
      this.reportCircular(ctx, clock.month, clock.params.now!, circular, departments, withRecords);
    if (clock.previous && clock.previous.circular !== false) {
      const previous = new Map<string, CircularLine>();
      let previousRead = false;
      for (const outcome of outcomes) {
        const figures = previousFigures(outcome);
        if (!figures) continue;
        addToCircular(previous, figures, nameOf);
        previousRead = true;
      }
      if (previousRead)
        this.reportCircular(ctx, clock.previous.month, clock.params.now!, previous, departments, withRecords);
    }
  }

  private reportCircular(
    ctx: Pick<CollectContext, 'report'>,
    month: string,
    asOf: string,
    circular: Map<string, CircularLine>,
    departments: Department[],
    datasets: string[],
  ): void {
    // A department that sent nothing this month belongs in the circular too, at the bottom.
    for (const d of departments) {
      if (!circular.has(d.code))
        circular.set(d.code, {
          department: d.code,
          name: d.name,
          submitted: 0,
          timelyBase: 0,
          onTime: 0,
          valid: 0,
        });
    }
    const lines = [...circular.values()].sort((a, b) => a.department.localeCompare(b.department));
    const total = lines.reduce((sum, l) => sum + l.submitted, 0);
    ctx.report({
      check: 'data.circular',
      target: month,
      status: 'OK',
      summary: `${month} 月度通报数据：${lines.length} 个部门报送 ${total} 条`,
      details: { month, asOf, datasets, departments: lines },
    });
  }

  private freshness(
    reg: MetricRegistry,
    ds: DatasetOptions,
    clock: Clock,
    rows: Row[],
    departments: Department[],
    allow: (code: string) => boolean,
    labelsOf: (d: string) => Record<string, string>,
    ctx: Pick<CollectContext, 'report'>,
  ): void {
    const newest = reg.gauge(
      'creditops_data_newest_record_timestamp_seconds',
      'When the newest record of the department arrived.',
    );
    const age = reg.gauge(
      'creditops_data_newest_record_age_seconds',
      "Age of the department's newest record.",
    );
    const today = reg.gauge('creditops_data_records_today', 'Records that arrived today (local time).');
    const month = reg.gauge('creditops_data_records_month', 'Records that arrived this month (local time).');
    const silentG = reg.gauge(
      'creditops_data_department_silent',
      '1 when the department sent nothing for longer than its expected cadence.',
    );
    const cadenceG = reg.gauge(
      'creditops_data_expected_cadence_seconds',
      'How often the department should report.',
    );
    const byCode = new Map(rows.map((r) => [String(r.department), r]));
    const codes = new Set([...departments.map((d) => d.code), ...byCode.keys()]);
    const cadence = new Map(departments.map((d) => [d.code, d.cadenceDays]));
    const silent: { code: string; days: number | undefined }[] = [];
    for (const code of [...codes].sort()) {
      const r = byCode.get(code) ?? {};
      const t = instantOf(r.newest_at);
      const cadenceDays = cadence.get(code) ?? this.options.defaultCadenceDays;
      const ageSeconds = t === undefined ? undefined : Math.max(0, (clock.now - t) / 1000);
      const isSilent = ageSeconds === undefined || ageSeconds > cadenceDays * 86_400;
      if (isSilent) silent.push({ code, days: ageSeconds === undefined ? undefined : ageSeconds / 86_400 });
      if (!allow(code)) continue;
      const labels = labelsOf(code);
      if (t !== undefined) newest.set(labels, t / 1000);
      if (ageSeconds !== undefined) age.set(labels, ageSeconds);
      today.set(labels, numberOf(r.records_today));
      month.set(labels, numberOf(r.records_month));
      silentG.set(labels, isSilent ? 1 : 0);
      cadenceG.set(labels, cadenceDays * 86_400);
    }
    const nameOf = (c: string) => departments.find((d) => d.code === c)?.name ?? c;
    ctx.report({
      check: 'data.freshness',
      target: ds.name,
      status: silent.length > 0 ? 'WARN' : 'OK',
      summary:
        silent.length > 0
          ? `${ds.title}：${silent.length} 个部门超过约定报送周期未报送数据：${listNames(silent.map((s) => `${nameOf(s.code)}（${s.days === undefined ? '从未报送' : `${Math.floor(s.days)} 天`}）`))}`
          : `${ds.title}：${codes.size} 个部门均在约定周期内报送了数据`,
      details: { silent: silent.map((s) => s.code) },
    });
  }

  private records(
    reg: MetricRegistry,
    ds: DatasetOptions,
    figures: Map<string, RecordFigures>,
    allow: (code: string) => boolean,
    labelsOf: (d: string) => Record<string, string>,
    nameOf: (d: string) => string,
    ctx: Pick<CollectContext, 'report'>,
    /** What the verdicts judge when it is more than this month: this and the previous month. */
    judged?: { figures: Map<string, RecordFigures>; since: string },
    judge = true,
  ): void {
    const o = this.options;
    const submitted = reg.gauge(
      'creditops_data_records_submitted',
      'Records of the month the records query returned.',
    );
    const onTime = reg.gauge(
      'creditops_data_publicity_on_time_ratio',
      "Share of the month's judged records published within the 双公示 deadline (working days).",
    );
    const overdue = reg.gauge(
      'creditops_data_publicity_overdue_records',
      'Records of the month not published and past the 双公示 deadline.',
    );
    const maxLag = reg.gauge(
      'creditops_data_publicity_lag_max_working_days',
      "Longest decision-to-publication lag among the month's published records.",
    );
    const valid = reg.gauge(
      'creditops_data_quality_valid_ratio',
      'Valid-load rate: valid records / records provided.',
    );
    const complete = reg.gauge(
      'creditops_data_quality_completeness_ratio',
      'Completeness: mandatory fields provided / mandatory fields required.',
    );
    const invalid = reg.gauge('creditops_data_quality_invalid_records', 'Records failing a rule, by rule.');
    const pilot = reg.gauge(
      'creditops_data_quality_pilot_code_records',
      'Records whose USCC fails its check but is on the pilot allowlist (warning).',
    );
    const undetermined = reg.gauge(
      'creditops_data_publicity_undetermined_records',
      'Records whose 双公示 lag spans a year without holiday data (期限待定): not judged.',
    );
    const late: string[] = [];
    const poor: string[] = [];
    let totalOverdue = 0;
    const samples: string[] = [];
    // Verdicts: this month, plus the previous month early in the month (its overdue records still count).
    for (const [dept, f] of [...(judged?.figures ?? figures)].sort(([a], [b]) => a.localeCompare(b))) {
      const onTimeRatio = ratio(f.onTime, f.timelyBase);
      const validRatio = ratio(f.valid, f.submitted)!;
      const completeRatio = ratio(f.mandatoryPresent, f.mandatoryRequired) ?? 1;
      totalOverdue += f.overdue;
      if (samples.length < 10) samples.push(...f.overdueSamples.slice(0, 10 - samples.length));
      if ((onTimeRatio !== undefined && onTimeRatio < o.onTimeTarget) || f.overdue > 0)
        late.push(
          `${nameOf(dept)}（${onTimeRatio === undefined ? '-' : pct(onTimeRatio)}，逾期 ${f.overdue} 条）`,
        );
      if (validRatio < o.validRateTarget || completeRatio < o.completenessTarget)
        poor.push(`${nameOf(dept)}（有效率 ${pct(validRatio)}，完整率 ${pct(completeRatio)}）`);
    }
    // Metrics: this month's records only.
    for (const [dept, f] of [...figures].sort(([a], [b]) => a.localeCompare(b))) {
      const onTimeRatio = ratio(f.onTime, f.timelyBase);
      const validRatio = ratio(f.valid, f.submitted)!;
      const completeRatio = ratio(f.mandatoryPresent, f.mandatoryRequired) ?? 1;
      if (!allow(dept)) continue;
      const labels = labelsOf(dept);
      submitted.set(labels, f.submitted);
      if (onTimeRatio !== undefined) onTime.set(labels, onTimeRatio);
      overdue.set(labels, f.overdue);
      maxLag.set(labels, f.maxLagWorkingDays);
      valid.set(labels, validRatio);
      complete.set(labels, completeRatio);
      pilot.set(labels, f.pilot);
      undetermined.set(labels, f.undetermined);
      for (const reason of INVALID_REASONS) invalid.set({ ...labels, reason }, f.invalid[reason]);
    }
    if (!judge) return;
    const scope = judged ? `（${judged.since} 起）` : '';
    ctx.report({
      check: 'data.timeliness',
      target: ds.name,
      status: late.length > 0 ? 'WARN' : 'OK',
      summary:
        late.length > 0
          ? `${ds.title}${scope}：双公示超过 ${o.publicationWorkingDays} 个工作日未公示 ${totalOverdue} 条，${late.length} 个部门按时率未达 ${pct(o.onTimeTarget)} 或有逾期：${listNames(late)}`
          : `${ds.title}：双公示均在 ${o.publicationWorkingDays} 个工作日内公示`,
      details: {
        overdue: totalOverdue,
        overdueSamples: samples,
        departments: late.length,
        ...(judged ? { since: judged.since } : {}),
      },
    });
    ctx.report({
      check: 'data.quality',
      target: ds.name,
      status: poor.length > 0 ? 'WARN' : 'OK',
      summary:
        poor.length > 0
          ? `${ds.title}${scope}：${poor.length} 个部门数据有效率或完整率低于 ${pct(o.validRateTarget)}：${listNames(poor)}`
          : `${ds.title}：各部门数据有效率和完整率均达标`,
      details: { departments: poor.length },
    });
  }

  private reconciliation(
    reg: MetricRegistry,
    ds: DatasetOptions,
    r: ReconciliationFigures,
    ctx: Pick<CollectContext, 'report'>,
  ): void {
    reg
      .gauge(
        'creditops_data_reconciliation_open_difference_records',
        'Records by which local counts and the provincial acknowledgements differ, over days past their due hour.',
      )
      .set({ dataset: ds.name }, r.overdueDifference);
    reg
      .gauge('creditops_data_reconciliation_open_days', 'Days past their due hour whose counts still differ.')
      .set({ dataset: ds.name }, r.overdueDays.length);
    reg
      .gauge(
        'creditops_data_reconciliation_pending_difference_records',
        'Differences of days whose exchange is not due yet.',
      )
      .set({ dataset: ds.name }, r.pendingDifference);
    ctx.report({
      check: 'data.reconciliation',
      target: ds.name,
      status: r.overdueDays.length > 0 ? 'CRIT' : 'OK',
      summary:
        r.overdueDays.length > 0
          ? `${ds.title}：与省平台对账不一致 ${r.overdueDays.length} 天（${listNames(r.overdueDays)}），相差 ${r.overdueDifference} 条，超过对账时限仍未解决`
          : `${ds.title}：与省平台对账一致${r.pendingDifference > 0 ? `（今日 ${r.pendingDifference} 条待交换）` : ''}`,
      details: { days: r.overdueDays, difference: r.overdueDifference, pending: r.pendingDifference },
    });
  }
}

export const creditData: CollectorDescriptor<CreditDataOptions> = {
  name: 'creditdata',
  description:
    'Credit data checks from configured read-only SQL: freshness, 双公示 timeliness, quality, reconciliation, credit repair.',
  defaultIntervalSeconds: 300,
  defaultTimeoutSeconds: 240,
  options: CreditDataOptionsSchema,
  // Defaults again here: the daemon passes {} for a section the configuration left out.
  create: (options, deps) =>
    new CreditDataCollector(
      Value.Default(CreditDataOptionsSchema, structuredClone(options)) as CreditDataOptions,
      deps.log,
    ),
};
