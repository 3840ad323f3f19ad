/**
 * One inspection report per host per day: every check's verdict with its evidence. A host with an
 * agent is compiled from the latest result of each check it reported (the agent runs the
 * baseline daily); a host without one is inspected over SSH on the spot; `creditops inspect`
 * with no host inspects the machine it runs on.
 */
import { randomUUID } from 'node:crypto';
import type { Host } from '../../probes/host.js';
import { hostProbes } from '../../probes/index.js';
import { type CheckStatus, runProbe, worstStatus } from '../../probes/types.js';
import { getAgentByName } from '../store/agents.js';
import { probeDb } from '../store/probe-tables.js';
import type { Store } from '../store/store.js';

export interface InspectionCheck {
  check: string;
  title: string;
  target: string | null;
  status: CheckStatus;
  summary: string;
  clause: string | null;
  remediation: string | null;
  observedAt: string;
  details: Record<string, unknown> | null;
}

export interface InspectionReport {
  id: string;
  host: string;
  day: string;
  trigger: 'schedule' | 'manual';
  startedAt: string;
  finishedAt: string;
  status: CheckStatus;
  summary: string;
  checks: InspectionCheck[];
}

/** The local calendar day of an instant, YYYY-MM-DD. */
export function localDay(ms: number, utcOffsetMinutes: number): string {
  return new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

export function summarise(checks: InspectionCheck[]): { status: CheckStatus; summary: string } {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const status = worstStatus(checks.map((c) => c.status));
  return {
    status,
    summary: `共 ${checks.length} 项：正常 ${count('OK')}，警告 ${count('WARN')}，严重 ${count('CRIT')}，未知 ${count('UNKNOWN')}`,
  };
}

/** Runs every host probe on the host now (locally or over SSH). */
export async function inspectHost(
  host: Host,
  options: {
    now: () => number;
    signal?: AbortSignal;
    onProgress?: (done: number, total: number, check: string) => void;
  },
): Promise<InspectionCheck[]> {
  const checks: InspectionCheck[] = [];
  const entries = Object.entries(hostProbes);
  let done = 0;
  for (const [id, probe] of entries) {
    options.onProgress?.(done, entries.length, id);
    const results = await runProbe(probe, {
      host,
      options: {},
      signal: options.signal ?? new AbortController().signal,
      now: options.now,
    });
    for (const r of results) {
      checks.push({
        check: id,
        title: probe.title,
        target: r.target ?? null,
        status: r.status,
        summary: r.summary,
        clause: probe.clause ?? null,
        remediation: r.status === 'OK' ? null : probe.remediation,
        observedAt: new Date(options.now()).toISOString(),
        details: r.details ?? null,
      });
    }
    done++;
  }
  options.onProgress?.(done, entries.length, '');
  return checks;
}

/**
 * Compiles an agent host's report from the latest result of each (check, target) it reported,
 * adding a finding when the agent is silent or its evidence is older than maxResultAgeHours.
 */
export async function compileAgentInspection(
  store: Store,
  name: string,
  options: { now: number; maxResultAgeHours: number; sourceName: string },
): Promise<InspectionCheck[] | undefined> {
  const agent = await getAgentByName(store, name);
  if (!agent) return undefined;
  const rows = await store.db
    .selectFrom('check_results')
    .selectAll()
    .where('agent_id', '=', agent.id)
    .orderBy('seq')
    .execute();
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) latest.set(`${r.check}\u0000${r.target ?? ''}`, r);
  // Account drift is judged by the collector, under its own source, with targets `<host>:<account>`.
  const source = await getAgentByName(store, options.sourceName);
  if (source) {
    const drift = await store.db
      .selectFrom('check_results')
      .selectAll()
      .where('agent_id', '=', source.id)
      .where('check', '=', 'accounts.drift')
      .where((eb) => eb.or([eb('target', '=', name), eb('target', 'like', `${name}:%`)]))
      .orderBy('seq')
      .execute();
    for (const r of drift) latest.set(`${r.check}\u0000${r.target ?? ''}`, r);
  }
  const maxAgeMs = options.maxResultAgeHours * 3_600_000;
  const checks: InspectionCheck[] = [];
  const lastSeen = agent.lastSeenAt ? Date.parse(agent.lastSeenAt) : undefined;
  checks.push({
    check: 'agent.reachable',
    title: '监控代理在线',
    target: name,
    status: lastSeen !== undefined && options.now - lastSeen < 10 * 60_000 ? 'OK' : 'CRIT',
    summary:
      lastSeen === undefined
        ? `主机 ${name} 的代理从未上报`
        : `主机 ${name} 的代理最近上报于 ${agent.lastSeenAt}`,
    clause: null,
    remediation:
      lastSeen !== undefined && options.now - lastSeen < 10 * 60_000
        ? null
        : '检查代理进程（systemctl status creditops-agent）与到采集中心的网络。',
    observedAt: new Date(options.now).toISOString(),
    details: null,
  });
  for (const r of latest.values()) {
    if (r.check === 'accounts.inventory') continue;
    const probe = hostProbes[r.check];
    const stale = options.now - Date.parse(r.observed_at) > maxAgeMs;
    checks.push({
      check: r.check,
      title: probe?.title ?? r.check,
      target: r.target,
      status: stale && r.status === 'OK' ? 'UNKNOWN' : (r.status as CheckStatus),
      summary: stale ? `${r.summary}（结论已过期：${r.observed_at}）` : r.summary,
      clause: probe?.clause ?? null,
      remediation: r.status === 'OK' ? null : (probe?.remediation ?? null),
      observedAt: r.observed_at,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    });
  }
  return checks;
}

/** Stores the report, replacing an earlier one of the same host and day. */
export async function storeReport(
  store: Store,
  report: Omit<InspectionReport, 'id'>,
): Promise<InspectionReport> {
  const db = probeDb(store);
  const id = randomUUID();
  const row = {
    id,
    host: report.host,
    day: report.day,
    trigger: report.trigger,
    started_at: report.startedAt,
    finished_at: report.finishedAt,
    status: report.status,
    summary: report.summary,
    checks: JSON.stringify(report.checks),
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('inspection_reports')
      .where('host', '=', report.host)
      .where('day', '=', report.day)
      .execute();
    await trx.insertInto('inspection_reports').values(row).execute();
  });
  return { ...report, id };
}

type ReportRow = Awaited<ReturnType<typeof listRows>>[number];
function listRows(store: Store) {
  return probeDb(store).selectFrom('inspection_reports').selectAll().execute();
}

function toReport(row: ReportRow, withChecks: boolean): InspectionReport {
  return {
    id: row.id,
    host: row.host,
    day: row.day,
    trigger: row.trigger as InspectionReport['trigger'],
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    status: row.status as CheckStatus,
    summary: row.summary,
    checks: withChecks ? (JSON.parse(row.checks) as InspectionCheck[]) : [],
  };
}

export async function listReports(
  store: Store,
  filter: { host?: string; day?: string } = {},
): Promise<Omit<InspectionReport, 'checks'>[]> {
  let q = probeDb(store).selectFrom('inspection_reports').selectAll();
  if (filter.host) q = q.where('host', '=', filter.host);
  if (filter.day) q = q.where('day', '=', filter.day);
  const rows = await q.orderBy('day', 'desc').orderBy('host').limit(1000).execute();
  return rows.map((r) => {
    const { checks: _c, ...rest } = toReport(r, false);
    return rest;
  });
}

export async function getReport(store: Store, id: string): Promise<InspectionReport | undefined> {
  const row = await probeDb(store)
    .selectFrom('inspection_reports')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toReport(row, true) : undefined;
}
