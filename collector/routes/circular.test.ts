import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addUser } from '../store/users.js';
import { payload, type TestCollector, testCollector } from '../test-helper.js';
import { buildCircular } from './circular.js';

const lines = [
  { department: 'D01', name: '市教育局', submitted: 200, timelyBase: 100, onTime: 100, valid: 200 },
  { department: 'D02', name: '市公安局', submitted: 100, timelyBase: 100, onTime: 90, valid: 100 },
  { department: 'D03', name: '市"市场,监管"局', submitted: 50, timelyBase: 50, onTime: 50, valid: 45 },
  { department: 'D04', name: '市税务局', submitted: 0, timelyBase: 0, onTime: 0, valid: 0 },
  { department: 'D05', name: '市水务局', submitted: 10, timelyBase: 0, onTime: 0, valid: 10 },
];

function circularResult(seq: number, observedAt: string, month: string, departments = lines) {
  return {
    seq,
    check: 'data.circular',
    target: month,
    status: 'OK' as const,
    summary: `${month} 月度通报数据`,
    details: { month, asOf: observedAt, datasets: ['license', 'penalty'], departments },
    observedAt,
  };
}

describe('GET /api/v1/reports/circular', () => {
  let c: TestCollector;
  let token: string;
  beforeEach(async () => {
    c = await testCollector();
    token = (await addUser(c.store, 'bureau', 'viewer')).token;
    const agent = await c.enroll('credit-db-01');
    const older = lines.map((l) => ({ ...l, submitted: 1 }));
    const res = await c.push(
      agent,
      payload(
        'credit-db-01',
        [],
        [
          circularResult(1, '2026-11-29T07:00:00.000Z', '2026-11', older),
          circularResult(2, '2026-11-30T07:00:00.000Z', '2026-11'),
          circularResult(3, '2026-10-31T07:00:00.000Z', '2026-10', older),
        ],
      ),
    );
    expect(res.statusCode, res.body).toBe(200);
  });
  afterEach(async () => {
    await c.close();
  });

  const get = (url: string, auth = true) =>
    c.app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${token}` } : {} });

  it('answers JSON: departments ranked with shares and the month totals, from the latest report', async () => {
    const res = await get('/api/v1/reports/circular?month=2026-11');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.month).toBe('2026-11');
    expect(body.asOf).toBe('2026-11-30T07:00:00.000Z');
    expect(body.agents).toEqual(['credit-db-01']);
    expect(body.datasets).toEqual(['license', 'penalty']);
    expect(body.departments.map((d: { department: string; rank: number }) => [d.rank, d.department])).toEqual(
      [
        [1, 'D01'],
        [1, 'D05'],
        [3, 'D02'],
        [3, 'D03'],
        [5, 'D04'],
      ],
    );
    expect(body.departments[2]).toMatchObject({ onTimeShare: 0.9, validShare: 1, score: 0.95 });
    expect(body.departments[1]).toMatchObject({ onTimeShare: null, validShare: 1 });
    expect(body.totals).toEqual({
      departments: 5,
      submitted: 360,
      timelyBase: 250,
      onTime: 240,
      valid: 355,
      onTimeShare: 240 / 250,
      validShare: 355 / 360,
    });
  });

  it('answers CSV with a BOM, Chinese headers, escaped cells and a totals row', async () => {
    const res = await get('/api/v1/reports/circular?month=2026-11&format=csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('circular-2026-11.csv');
    expect(res.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = res.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(rows[0]).toBe(
      '排名,部门编码,部门名称,报送条数,应按时公示条数,按时公示条数,按时率,有效条数,有效率',
    );
    expect(rows[1]).toBe('1,D01,市教育局,200,100,100,100.00%,200,100.00%');
    expect(rows[4]).toBe('3,D03,"市""市场,监管""局",50,50,50,100.00%,45,90.00%');
    expect(rows[5]).toBe('5,D04,市税务局,0,0,0,-,0,-');
    expect(rows[6]).toBe('合计,,5 个部门,360,250,240,96.00%,355,98.61%');
  });

  it('keeps past months', async () => {
    const res = await get('/api/v1/reports/circular?month=2026-10');
    expect(res.statusCode).toBe(200);
    expect(res.json().totals.submitted).toBe(5);
  });

  it('refuses a malformed month, answers 404 for a month without data, 401 without a token', async () => {
    expect((await get('/api/v1/reports/circular?month=2026-13')).statusCode).toBe(400);
    expect((await get('/api/v1/reports/circular')).statusCode).toBe(400);
    const missing = await get('/api/v1/reports/circular?month=2025-01');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('no_circular');
    expect((await get('/api/v1/reports/circular?month=2026-11', false)).statusCode).toBe(401);
  });
});

describe('buildCircular', () => {
  it('sums several agents per department', () => {
    const c = buildCircular('2026-11', [
      { agent: 'a', observedAt: '2026-11-30T01:00:00Z', details: { departments: [lines[0]] } },
      { agent: 'b', observedAt: '2026-11-30T02:00:00Z', details: { departments: [lines[0], lines[1]] } },
    ]);
    expect(c.departments.find((d) => d.department === 'D01')?.submitted).toBe(400);
    expect(c.asOf).toBe('2026-11-30T02:00:00Z');
    expect(c.agents).toEqual(['a', 'b']);
  });
});
