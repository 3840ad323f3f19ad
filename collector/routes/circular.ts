/**
 * GET /api/v1/reports/circular?month=YYYY-MM[&format=csv]: the monthly department circular
 * (月度通报) on credit data reporting. Bearer user token; any role may read (the bureau included).
 *
 * Where the figures come from: the agent's credit-data collector reports a check result
 * `data.circular` with target `YYYY-MM` whose details hold, per department, the month's records
 * submitted, records judged for 双公示 timeliness and those on time, and valid records (see
 * agent/collectors/credit-data). Check results are durable evidence (outbox, idempotent store), so
 * the circular of a past month is still there after the month ends. The latest result of each
 * agent counts; several agents (several credit databases) are summed per department.
 *
 * Rank: by score = (on-time share + valid share) / 2, highest first; equal scores share a rank
 * (1, 2, 2, 4). A department with nothing judged for timeliness yet counts as on time; one that
 * submitted nothing scores 0.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.js';
import { requireUser } from './tickets/auth.js';

const Query = Type.Object(
  {
    month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  },
  { additionalProperties: false },
);

interface Line {
  department: string;
  name: string;
  submitted: number;
  timelyBase: number;
  onTime: number;
  valid: number;
}

export interface CircularRow extends Line {
  rank: number;
  onTimeShare: number | null;
  validShare: number | null;
  score: number;
}

export interface Circular {
  month: string;
  asOf: string;
  agents: string[];
  datasets: string[];
  departments: CircularRow[];
  totals: Omit<Line, 'department' | 'name'> & {
    departments: number;
    onTimeShare: number | null;
    validShare: number | null;
  };
}

function share(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

function toLine(value: unknown): Line | undefined {
  const v = value as Partial<Line> | null;
  if (!v || typeof v.department !== 'string') return undefined;
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  return {
    department: v.department,
    name: typeof v.name === 'string' ? v.name : v.department,
    submitted: n(v.submitted),
    timelyBase: n(v.timelyBase),
    onTime: n(v.onTime),
    valid: n(v.valid),
  };
}

/** Ranks the departments and adds the month's totals. */
export function buildCircular(
  month: string,
  results: { agent: string; observedAt: string; details: unknown }[],
): Circular {
  const byDept = new Map<string, Line>();
  const datasets = new Set<string>();
  for (const r of results) {
    const d = r.details as { departments?: unknown[]; datasets?: unknown[] } | null;
    for (const ds of d?.datasets ?? []) if (typeof ds === 'string') datasets.add(ds);
    for (const raw of d?.departments ?? []) {
      const l = toLine(raw);
      if (!l) continue;
      const sum = byDept.get(l.department);
      if (!sum) byDept.set(l.department, l);
      else {
        sum.submitted += l.submitted;
        sum.timelyBase += l.timelyBase;
        sum.onTime += l.onTime;
        sum.valid += l.valid;
      }
    }
  }
  const rows = [...byDept.values()].map((l) => {
    const onTimeShare = share(l.onTime, l.timelyBase);
    const validShare = share(l.valid, l.submitted);
    const score = l.submitted === 0 ? 0 : ((onTimeShare ?? 1) + (validShare ?? 0)) / 2;
    return { ...l, rank: 0, onTimeShare, validShare, score };
  });
  rows.sort(
    (a, b) => b.score - a.score || b.submitted - a.submitted || a.department.localeCompare(b.department),
  );
  rows.forEach((r, i) => {
    r.rank = i > 0 && rows[i - 1]!.score === r.score ? rows[i - 1]!.rank : i + 1;
  });
  const sum = (f: (l: Line) => number) => rows.reduce((s, l) => s + f(l), 0);
  const totals = {
    departments: rows.length,
    submitted: sum((l) => l.submitted),
    timelyBase: sum((l) => l.timelyBase),
    onTime: sum((l) => l.onTime),
    valid: sum((l) => l.valid),
    onTimeShare: share(
      sum((l) => l.onTime),
      sum((l) => l.timelyBase),
    ),
    validShare: share(
      sum((l) => l.valid),
      sum((l) => l.submitted),
    ),
  };
  const asOf =
    results
      .map((r) => r.observedAt)
      .sort()
      .at(-1) ?? '';
  return {
    month,
    asOf,
    agents: [...new Set(results.map((r) => r.agent))].sort(),
    datasets: [...datasets].sort(),
    departments: rows,
    totals,
  };
}

function pct(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(2)}%`;
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV with a UTF-8 byte order mark, so Excel opens the Chinese text correctly. */
export function circularCsv(c: Circular): string {
  const header = [
    '排名',
    '部门编码',
    '部门名称',
    '报送条数',
    '应按时公示条数',
    '按时公示条数',
    '按时率',
    '有效条数',
    '有效率',
  ];
  const lines = [header];
  for (const r of c.departments) {
    lines.push([
      String(r.rank),
      r.department,
      r.name,
      String(r.submitted),
      String(r.timelyBase),
      String(r.onTime),
      pct(r.onTimeShare),
      String(r.valid),
      pct(r.validShare),
    ]);
  }
  const t = c.totals;
  lines.push([
    '合计',
    '',
    `${t.departments} 个部门`,
    String(t.submitted),
    String(t.timelyBase),
    String(t.onTime),
    pct(t.onTimeShare),
    String(t.valid),
    pct(t.validShare),
  ]);
  return `\uFEFF${lines.map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

export default async function circularRoutes(app: FastifyInstance): Promise<void> {
  requireUser(app);
  app.get('/api/v1/reports/circular', { schema: { querystring: Query } }, async (request, reply) => {
    const { month, format = 'json' } = request.query as { month: string; format?: 'json' | 'csv' };
    const rows = await app.collector.store.db
      .selectFrom('check_results')
      .innerJoin('agents', 'agents.id', 'check_results.agent_id')
      .select(['agents.name as agent', 'check_results.observed_at', 'check_results.details'])
      .where('check_results.check', '=', 'data.circular')
      .where('check_results.target', '=', month)
      .orderBy('check_results.observed_at', 'desc')
      .execute();
    const latest = new Map<string, { agent: string; observedAt: string; details: unknown }>();
    for (const r of rows) {
      if (latest.has(r.agent) || r.details === null) continue;
      latest.set(r.agent, { agent: r.agent, observedAt: r.observed_at, details: JSON.parse(r.details) });
    }
    if (latest.size === 0) {
      return sendError(
        reply,
        404,
        'no_circular',
        `no agent has reported the circular figures of ${month}: enable the credit-data collector with a records query`,
      );
    }
    const circular = buildCircular(month, [...latest.values()]);
    if (format === 'csv') {
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="circular-${month}.csv"; filename*=UTF-8''${encodeURIComponent(`月度通报-${month}.csv`)}`,
        )
        .send(circularCsv(circular));
    }
    return circular;
  });
}
