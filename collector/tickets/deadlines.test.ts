import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkingDayCalendar } from '../../lib/calendar/index.js';
import { dueAfter } from './deadlines.js';
import { type Kit, ticketKit } from './test-kit.js';

const calendar = new WorkingDayCalendar();
const bj = (local: string) => new Date(`${local}+08:00`);

describe('dueAfter on the real 2026 calendar', () => {
  it.each([
    ['objection received 2026-09-30 (National Day)', '2026-09-30T10:00', '2wd', '2026-10-10T00:00', []],
    [
      'objection received 2026-02-12 (调休 Saturday 02-14)',
      '2026-02-12T09:00',
      '2wd',
      '2026-02-15T00:00',
      [],
    ],
    [
      'change research received 2026-02-13 (Spring Festival)',
      '2026-02-13T16:00',
      '5wd',
      '2026-02-28T00:00',
      [],
    ],
    ['P3 fault restore opened Tuesday 2026-09-29 23:00', '2026-09-29T23:00', '3wd', '2026-10-10T00:00', []],
    ['P1 respond, wall clock over a holiday', '2026-10-01T03:00', '15m', '2026-10-01T03:15', []],
    ['P2 restore, wall clock', '2026-10-01T22:00', '8h', '2026-10-02T06:00', []],
    ['force majeure notify: one calendar day', '2026-10-03T12:00', '1d', '2026-10-04T12:00', []],
    ['delivery counted into 2027 (no holiday data)', '2026-12-10T10:00', '20wd', '2027-01-08T00:00', [2027]],
  ])('%s', (_name, start, duration, due, unknownYears) => {
    const r = dueAfter(bj(start), duration, calendar);
    expect(r.dueAt.toISOString()).toBe(bj(due).toISOString());
    expect(r.unknownYears).toEqual(unknownYears);
  });
});

describe('ticket deadlines in the store', () => {
  let k: Kit;
  beforeEach(async () => {
    k = await ticketKit({ start: Date.parse('2026-09-30T02:00:00Z') });
  });
  afterEach(() => k.close());

  const open = async (body: Record<string, unknown>) => {
    const res = await k.api('POST', '/api/v1/tickets', k.tokens.engineer, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };

  it('an objection received 2026-09-30 is due at the end of 2026-10-09; met when answered in time', async () => {
    const t = await open({ kind: 'objection', title: '对行政处罚公示信息的书面异议' });
    expect(t.number).toBe('OBJ-2026-0001');
    expect(t.deadlines).toEqual([
      expect.objectContaining({
        clock: 'answer',
        dueAt: '2026-10-09T16:00:00.000Z',
        unknown: false,
        state: 'pending',
        display: '2026-10-10 00:00',
      }),
    ]);
    k.clock.ms = Date.parse('2026-10-09T08:00:00Z');
    const res = await k.api('POST', `/api/v1/tickets/${t.number}/resolve`, k.tokens.engineer, {
      note: '已书面答复',
    });
    expect(res.json().deadlines[0]).toMatchObject({ state: 'met' });
  });

  it('the sweep marks a missed clock once, exports it, and a fault numbers INC-2026-…', async () => {
    const t = await open({ kind: 'fault', severity: 'P1', title: '门户网站无法访问', host: 'web-01' });
    expect(t.number).toBe('INC-2026-0001');
    expect(t.deadlines.map((d: { clock: string; dueAt: string }) => [d.clock, d.dueAt])).toEqual([
      ['respond', '2026-09-30T02:15:00.000Z'],
      ['restore', '2026-09-30T06:00:00.000Z'],
    ]);
    k.clock.ms += 16 * 60_000;
    await k.tick();
    await k.tick();
    const shown = (await k.api('GET', `/api/v1/tickets/${t.number}`, k.tokens.viewer)).json();
    expect(shown.deadlines.map((d: { state: string }) => d.state)).toEqual(['missed', 'pending']);
    expect(shown.events.filter((e: { type: string }) => e.type === 'deadline_missed')).toHaveLength(1);
    const metrics = (await k.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('creditops_ticket_deadline_missed_total{clock="respond",kind="fault"} 1\n');
    expect(metrics).toContain('creditops_ticket_open{kind="fault",severity="P1"} 1\n');
    // Acknowledging late keeps the clock missed.
    const ack = (await k.api('POST', `/api/v1/tickets/${t.number}/ack`, k.tokens.engineer, {})).json();
    expect(ack.deadlines[0]).toMatchObject({ clock: 'respond', state: 'missed' });
  });

  it('change: research 5 working days, delivery 20 working days from the bureau confirmation (second clock)', async () => {
    k.clock.ms = Date.parse('2026-02-13T08:00:00Z');
    const t = await open({ kind: 'change', title: '新增信用修复统计报表' });
    expect(t.deadlines).toEqual([
      expect.objectContaining({ clock: 'research', dueAt: '2026-02-27T16:00:00.000Z' }),
    ]);
    k.clock.ms = Date.parse('2026-02-26T02:00:00Z');
    const confirmed = (
      await k.api('POST', `/api/v1/tickets/${t.number}/confirm`, k.tokens.engineer, {})
    ).json();
    expect(confirmed.deadlines).toEqual([
      expect.objectContaining({ clock: 'research', state: 'met' }),
      // 20 working days after Thursday 2026-02-26, Saturday 02-28 (调休) included: end of 2026-03-25.
      expect.objectContaining({ clock: 'delivery', dueAt: '2026-03-25T16:00:00.000Z', state: 'pending' }),
    ]);
    const again = await k.api('POST', `/api/v1/tickets/${t.number}/confirm`, k.tokens.engineer, {});
    expect(again.statusCode).toBe(409);
  });

  it('a deadline reaching into 2027 (no holiday data) is stored as unknown, shown as 未知, never judged', async () => {
    k.clock.ms = Date.parse('2026-12-20T02:00:00Z');
    const t = await open({ kind: 'rectification', title: '等保测评整改：口令复杂度', host: 'db-01' });
    expect(t.deadlines[0]).toMatchObject({ clock: 'rectify', unknown: true, unknownYears: [2027] });
    expect(t.deadlines[0].display).toMatch(/^未知/);
    k.clock.ms = Date.parse('2027-03-01T02:00:00Z');
    await k.tick();
    const shown = (await k.api('GET', `/api/v1/tickets/${t.number}`, k.tokens.viewer)).json();
    expect(shown.deadlines[0].state).toBe('pending');
    expect(shown.events.map((e: { type: string }) => e.type)).toContain('deadline_unknown');
    const metrics = (await k.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('creditops_ticket_deadline_unknown 1\n');
    // 2027 is the current year and unknown.
    expect(metrics).toContain('creditops_calendar_next_year_missing 1\n');
  });

  it('warns from December on when next year is missing, not before', async () => {
    k.clock.ms = Date.parse('2026-11-30T10:00:00Z');
    await k.tick();
    expect((await k.app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'creditops_calendar_next_year_missing 0\n',
    );
    k.clock.ms = Date.parse('2026-11-30T16:00:00Z'); // 2026-12-01 00:00 in Beijing
    await k.tick();
    expect((await k.app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'creditops_calendar_next_year_missing 1\n',
    );
  });
});
