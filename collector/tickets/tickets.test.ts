import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enrollAgent } from '../store/agents.js';
import { recordPush } from '../store/check-results.js';
import { amPayload, type Kit, ticketKit } from './test-kit.js';

let k: Kit;
beforeEach(async () => {
  k = await ticketKit();
});
afterEach(() => k.close());

const types = (detail: { events: { type: string }[] }) => detail.events.map((e) => e.type);

describe('ticket API and roles', () => {
  it('needs a user token; the viewer reads but changes nothing', async () => {
    expect((await k.api('GET', '/api/v1/tickets', null)).statusCode).toBe(401);
    expect(
      (await k.api('GET', '/api/v1/tickets', 'cro_notatokenatallnotatokenatallnotatokenatall1')).statusCode,
    ).toBe(401);
    const denied = await k.api('POST', '/api/v1/tickets', k.tokens.viewer, { kind: 'fault', title: 'x' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error).toBe('forbidden');
    expect((await k.api('GET', '/api/v1/tickets', k.tokens.viewer)).json()).toEqual({ tickets: [] });
  });

  it('refuses a received time in the future', async () => {
    const future = await k.api('POST', '/api/v1/tickets', k.tokens.engineer, {
      kind: 'objection',
      title: '书面异议',
      receivedAt: '2099-01-01T00:00:00Z',
    });
    expect(future.statusCode).toBe(400);
    expect(future.json().error).toBe('received_in_future');
  });

  it('open → acknowledged → resolved → closed → reopened, with a timeline, comments and an assignee', async () => {
    const opened = await k.api('POST', '/api/v1/tickets', k.tokens.engineer, {
      kind: 'fault',
      severity: 'P2',
      title: '数据交换平台同步失败',
      host: 'etl-01',
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const n = opened.json().number;
    expect(n).toBe('INC-2026-0001');
    const second = await k.api('POST', '/api/v1/tickets', k.tokens.engineer, {
      kind: 'fault',
      title: '第二个',
    });
    expect(second.json().number).toBe('INC-2026-0002');
    expect((await k.api('POST', `/api/v1/tickets/${n}/ack`, k.tokens.viewer, {})).statusCode).toBe(403);
    await k.api('POST', `/api/v1/tickets/${n}/assign`, k.tokens.engineer, { assignee: '李四' });
    expect((await k.api('POST', `/api/v1/tickets/${n}/ack`, k.tokens.engineer, {})).json().status).toBe(
      'acknowledged',
    );
    await k.api('POST', `/api/v1/tickets/${n}/comment`, k.tokens.engineer, { text: '已联系省平台' });
    expect((await k.api('POST', `/api/v1/tickets/${n}/ack`, k.tokens.engineer, {})).statusCode).toBe(409);
    await k.api('POST', `/api/v1/tickets/${n}/resolve`, k.tokens.engineer, { note: '重启同步任务' });
    await k.api('POST', `/api/v1/tickets/${n}/close`, k.tokens.admin, {});
    const reopened = (
      await k.api('POST', `/api/v1/tickets/${n}/reopen`, k.tokens.engineer, { note: '再次失败' })
    ).json();
    expect(reopened.status).toBe('open');
    expect(reopened.assignee).toBe('李四');
    expect(types(reopened)).toEqual([
      'opened',
      'notification_unrouted',
      'assigned',
      'acknowledged',
      'deadline_met',
      'comment',
      'resolved',
      'deadline_met',
      'closed',
      'reopened',
    ]);
    expect(reopened.events.find((e: { type: string }) => e.type === 'comment')).toMatchObject({
      actor: 'zhangsan',
      message: '已联系省平台',
    });
    const list = (await k.api('GET', '/api/v1/tickets?status=active', k.tokens.viewer)).json();
    expect(list.tickets.map((t: { number: string }) => t.number).sort()).toEqual([
      'INC-2026-0001',
      'INC-2026-0002',
    ]);
    expect((await k.api('GET', '/api/v1/tickets/INC-2026-0099', k.tokens.viewer)).statusCode).toBe(404);
    const page = await k.app.inject({ method: 'GET', url: `/tickets/${n}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('数据交换平台同步失败');
    expect(page.body).toContain('处理记录');
  });
});

describe('Alertmanager webhook', () => {
  const firing = amPayload([{ status: 'firing', fingerprint: 'aa11', startsAt: '2026-05-11T01:55:00Z' }]);

  it('refuses a call without the token, and a wrong token', async () => {
    expect((await k.webhook(firing, null)).statusCode).toBe(401);
    expect((await k.webhook(firing, 'wrong')).statusCode).toBe(401);
  });

  it('the same payload three times gives one ticket; its resolve resolves it', async () => {
    for (let i = 0; i < 3; i++) expect((await k.webhook(firing)).statusCode).toBe(200);
    const list = (await k.api('GET', '/api/v1/tickets', k.tokens.viewer)).json().tickets;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      number: 'INC-2026-0001',
      severity: 'P1',
      kind: 'fault',
      host: 'db-01',
      title: '主机 db-01 无法访问',
      status: 'open',
      openedAt: '2026-05-11T01:55:00.000Z',
    });
    const resolved = amPayload([
      { status: 'resolved', fingerprint: 'aa11', startsAt: '2026-05-11T01:55:00Z' },
    ]);
    expect((await k.webhook(resolved)).statusCode).toBe(200);
    expect((await k.webhook(resolved)).statusCode).toBe(200);
    // A late redelivery of the firing does not reopen it.
    expect((await k.webhook(firing)).json().outcomes[0].action).toBe('stale');
    const t = (await k.api('GET', '/api/v1/tickets/INC-2026-0001', k.tokens.viewer)).json();
    expect(t.status).toBe('resolved');
    expect(types(t).filter((x) => x === 'resolved')).toHaveLength(1);
  });

  it('mixed firing and resolved alerts, and a resolve for an unknown alert, get 200', async () => {
    await k.webhook(firing);
    const res = await k.webhook(
      amPayload([
        { status: 'resolved', fingerprint: 'aa11', startsAt: '2026-05-11T01:55:00Z' },
        {
          status: 'firing',
          fingerprint: 'bb22',
          startsAt: '2026-05-11T01:58:00Z',
          labels: { alertname: 'DiskFull', severity: 'P3', host: 'web-01' },
          summary: '主机 web-01 磁盘将满',
        },
        { status: 'resolved', fingerprint: 'never-seen', startsAt: '2026-05-10T01:00:00Z' },
      ]),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().outcomes.map((o: { action: string }) => o.action)).toEqual([
      'resolved',
      'opened',
      'unknown_resolve',
    ]);
    const list = (await k.api('GET', '/api/v1/tickets', k.tokens.viewer)).json().tickets;
    expect(list.map((t: { status: string; severity: string }) => [t.status, t.severity]).sort()).toEqual([
      ['open', 'P3'],
      ['resolved', 'P1'],
    ]);
  });

  it('a new occurrence of an alert resolved recently reopens its ticket instead of opening a twin', async () => {
    await k.webhook(firing);
    await k.webhook(
      amPayload([{ status: 'resolved', fingerprint: 'aa11', startsAt: '2026-05-11T01:55:00Z' }]),
    );
    k.clock.ms += 10 * 60_000;
    const again = await k.webhook(
      amPayload([{ status: 'firing', fingerprint: 'aa11', startsAt: '2026-05-11T02:08:00Z' }]),
    );
    expect(again.json().outcomes[0]).toMatchObject({ action: 'reopened', ticket: 'INC-2026-0001' });
    expect((await k.api('GET', '/api/v1/tickets', k.tokens.viewer)).json().tickets).toHaveLength(1);
  });

  it('a malformed payload is a 400, not a 5xx', async () => {
    const res = await k.webhook({ alerts: [{ status: 'weird' }] });
    expect(res.statusCode).toBe(400);
  });
});

describe('check evaluator', () => {
  let agentId: string;
  let seq = 0;
  const push = async (status: 'OK' | 'WARN' | 'CRIT', n = 1) => {
    for (let i = 0; i < n; i++) {
      seq++;
      await recordPush(k.store, agentId, { address: null, intervalSeconds: 60 }, [
        {
          seq,
          check: 'backup.restore_test',
          target: 'credit',
          status,
          summary: `恢复演练 ${status}`,
          observedAt: new Date(k.clock.ms).toISOString(),
        },
      ]);
      k.clock.ms += 60_000;
    }
    await k.tick();
  };
  const tickets = async () => (await k.api('GET', '/api/v1/tickets', k.tokens.viewer)).json().tickets;

  beforeEach(async () => {
    seq = 0;
    agentId = (await enrollAgent(k.store, 'db-01')).agent.id;
  });

  it('opens after 3 consecutive CRIT, resolves after 2 OK with a note; one result is never counted twice', async () => {
    await push('CRIT', 2);
    expect(await tickets()).toEqual([]);
    await push('CRIT');
    await k.tick(); // nothing new: the cursor does not re-read rows
    const [t] = await tickets();
    expect(t).toMatchObject({
      severity: 'P2',
      host: 'db-01',
      service: 'backup.restore_test',
      source: 'check',
      status: 'open',
    });
    await push('CRIT', 3);
    expect(await tickets()).toHaveLength(1);
    await push('OK');
    expect((await tickets())[0].status).toBe('open');
    await push('OK');
    const resolved = (await k.api('GET', `/api/v1/tickets/${t.number}`, k.tokens.viewer)).json();
    expect(resolved.status).toBe('resolved');
    expect(resolved.events.find((e: { type: string }) => e.type === 'resolved').message).toMatch(
      /检查已恢复（连续 2 次正常）/,
    );
  });

  it('a flapping check keeps one ticket: it is reopened, not duplicated', async () => {
    for (let round = 0; round < 5; round++) {
      await push('CRIT', 3);
      await push('OK', 2);
    }
    const list = await tickets();
    expect(list).toHaveLength(1);
    const detail = (await k.api('GET', `/api/v1/tickets/${list[0].number}`, k.tokens.viewer)).json();
    expect(types(detail).filter((x) => x === 'reopened')).toHaveLength(4);
  });

  it('WARN does not open a ticket by default', async () => {
    await push('WARN', 5);
    expect(await tickets()).toEqual([]);
  });

  it('a maintenance window holds the check ticket back (recorded), and it opens after the window if still failing', async () => {
    const w = await k.api('POST', '/api/v1/maintenance/windows', k.tokens.engineer, {
      name: '数据库升级',
      hosts: ['db-01'],
      services: ['backup.*'],
      start: '2026-05-11T09:30',
      durationMinutes: 60,
      reason: '升级 PostgreSQL 17',
    });
    expect(w.statusCode, w.body).toBe(201);
    await push('CRIT', 5);
    expect(await tickets()).toEqual([]);
    const held = (await k.api('GET', '/api/v1/maintenance/suppressions', k.tokens.viewer)).json()
      .suppressions;
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ source: 'check', host: 'db-01', service: 'backup.restore_test' });
    k.clock.ms = Date.parse('2026-05-11T02:31:00Z'); // 10:31 Beijing: window over
    await push('CRIT');
    expect(await tickets()).toHaveLength(1);
    expect((await k.api('GET', '/api/v1/maintenance/windows', k.tokens.viewer)).json().windows).toHaveLength(
      1,
    );
    expect(
      (await k.api('DELETE', `/api/v1/maintenance/windows/${w.json().id}`, k.tokens.viewer)).statusCode,
    ).toBe(403);
    expect(
      (await k.api('DELETE', `/api/v1/maintenance/windows/${w.json().id}`, k.tokens.engineer)).statusCode,
    ).toBe(200);
    expect(
      (await k.api('GET', '/api/v1/maintenance/windows?all=1', k.tokens.viewer)).json().windows[0].deletedAt,
    ).not.toBeNull();
  });
});
