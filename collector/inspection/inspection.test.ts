import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { displayWidth } from '../../lib/text-width.js';
import type { buildApp } from '../app.js';
import { loadCollectorConfig } from '../config.js';
import { enrollAgent } from '../store/agents.js';
import type { Store } from '../store/store.js';
import { addUser } from '../store/users.js';
import { payload, type TestCollector, testCollector } from '../test-helper.js';
import { renderReport } from './format.js';
import { nextDailyRun } from './schedule.js';

const ROOT = join(import.meta.dirname, '../..');
let dir: string;
let store: Store;
let app: ReturnType<typeof buildApp>;
let collector: TestCollector;
// 2026-03-02 07:00 in China (UTC+8): before the 08:30 inspection.
const clock = { ms: Date.parse('2026-03-01T23:00:00Z') };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'creditops-inspection-'));
  writeFileSync(join(dir, 'known_hosts'), '');
  const defaults = loadCollectorConfig();
  collector = await testCollector(
    {
      ticketSweepSeconds: 0,
      inspection: {
        ...defaults.collector.inspection,
        hosts: [
          {
            name: 'db2',
            ssh: {
              host: '127.0.0.1',
              port: 1,
              username: 'ops',
              privateKeyPath: join(dir, 'none'),
              knownHostsPath: join(dir, 'known_hosts'),
            },
          },
        ],
      },
    },
    { clock, probing: { schedule: false } },
  );
  ({ store, app } = collector);
});
afterEach(async () => {
  await collector.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('daily inspection', () => {
  it('finds the next local run time', () => {
    expect(new Date(nextDailyRun(Date.parse('2026-03-01T23:00:00Z'), '08:30', 480)).toISOString()).toBe(
      '2026-03-02T00:30:00.000Z',
    );
    expect(new Date(nextDailyRun(Date.parse('2026-03-02T01:00:00Z'), '08:30', 480)).toISOString()).toBe(
      '2026-03-03T00:30:00.000Z',
    );
  });

  it('runs at the configured time with an injected clock and stores one report per host per day', async () => {
    const { token } = await enrollAgent(store, 'web1');
    const { token: viewer } = await addUser(store, 'bureau', 'viewer');
    const scheduler = app.probing.inspections;

    expect(await scheduler.tick()).toEqual([]); // 07:00: not yet
    clock.ms = Date.parse('2026-03-02T00:31:00Z'); // 08:31 local
    const observedAt = new Date(clock.ms).toISOString();
    const checks = [
      {
        seq: 1,
        check: 'security.accounts.uid0',
        status: 'OK' as const,
        summary: '只有 root 账户的 UID 为 0',
        observedAt,
      },
      {
        seq: 2,
        check: 'security.ssh.config',
        target: 'PermitRootLogin',
        status: 'CRIT' as const,
        summary: 'SSH 允许 root 登录',
        details: { key: 'PermitRootLogin', value: 'yes' },
        observedAt,
      },
    ];
    const pushed = await app.inject({
      method: 'POST',
      url: '/api/v1/push',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(payload('web1', [], checks)),
    });
    expect(pushed.statusCode).toBe(200);
    const reports = await scheduler.tick();
    expect(reports.map((r) => [r.host, r.day, r.trigger, r.status])).toEqual([
      ['db2', '2026-03-02', 'schedule', 'CRIT'],
      ['web1', '2026-03-02', 'schedule', 'CRIT'],
    ]);
    const web1 = reports.find((r) => r.host === 'web1')!;
    expect(web1.checks.map((c) => [c.check, c.target, c.status])).toEqual([
      ['agent.reachable', 'web1', 'OK'],
      ['security.accounts.uid0', null, 'OK'],
      ['security.ssh.config', 'PermitRootLogin', 'CRIT'],
    ]);
    expect(web1.checks[2]).toMatchObject({
      clause: 'GB/T 22239-2019 8.1.4.1 b) c)',
      details: { value: 'yes' },
    });
    expect(reports.find((r) => r.host === 'db2')!.checks[0]).toMatchObject({
      check: 'inspection.ssh',
      status: 'CRIT',
    });

    clock.ms += 3_600_000;
    expect(await scheduler.tick()).toEqual([]); // once a day
    clock.ms = Date.parse('2026-03-03T00:45:00Z');
    expect((await scheduler.tick()).map((r) => r.day)).toEqual(['2026-03-03', '2026-03-03']);

    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/inspections?host=web1',
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(list.json().reports.map((r: { day: string }) => r.day)).toEqual(['2026-03-03', '2026-03-02']);
    const shown = await app.inject({
      method: 'GET',
      url: `/api/v1/inspections/${list.json().reports[0].id}`,
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(shown.json()).toMatchObject({
      host: 'web1',
      checks: expect.arrayContaining([expect.objectContaining({ check: 'security.ssh.config' })]),
    });
    expect((await app.inject({ method: 'GET', url: '/api/v1/inspections' })).statusCode).toBe(401);

    const text = renderReport('web1', web1.day, web1.summary, web1.checks);
    expect(text).toContain('日常巡检报告  主机：web1  日期：2026-03-02');
    expect(text).toMatch(/│ 严重 │ SSH 服务安全配置\s+│ PermitRootLogin │/);
    expect(text).toContain('整改建议：');
    const lines = text.split('\n').filter((l) => l.startsWith('│'));
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
  });

  it('creditops inspect prints a readable report for this host', { timeout: 60_000 }, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), 'inspect'], {
      encoding: 'utf8',
      timeout: 55_000,
    });
    expect(r.stdout).toContain('日常巡检报告  主机：本机');
    expect(r.stdout).toMatch(/│ (正常|警告|严重|未知) │ 仅 root 账户的 UID 为 0/);
    expect(r.stderr).toContain('巡检中');
    expect([0, 1, 2]).toContain(r.status);
  });
});
