import { appendFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAccounts } from '../../probes/accounts/inventory.js';
import { LocalHost } from '../../probes/hosts/local-host.js';
import type { buildApp } from '../app.js';
import { enrollAgent, getAgentByName } from '../store/agents.js';
import { listCheckResults } from '../store/check-results.js';
import type { Store } from '../store/store.js';
import { addUser } from '../store/users.js';
import { payload, type TestCollector, testCollector } from '../test-helper.js';
import { sweepAccountDrift } from './sweep.js';

const GOOD = join(import.meta.dirname, '../../probes/security/fixtures/good');
let dir: string;
let collector: TestCollector;
let store: Store;
let app: ReturnType<typeof buildApp>;
const clock = { ms: Date.parse('2026-03-02T08:00:00Z') };

beforeEach(async () => {
  collector = await testCollector({ ticketSweepSeconds: 0 }, { clock, probing: { schedule: false } });
  ({ store, app, dataDir: dir } = collector);
});
afterEach(async () => {
  await collector.close();
});

let seq = 0;
async function reportInventory(token: string, root: string) {
  const accounts = await readAccounts(new LocalHost({ root }));
  const check = {
    seq: ++seq,
    check: 'accounts.inventory',
    status: 'OK' as const,
    summary: `${accounts.length} 个账户`,
    details: { accounts },
    observedAt: new Date(clock.ms).toISOString(),
  };
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/push',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(payload('web1', [], [check])),
  });
  expect(res.statusCode).toBe(200);
}

async function driftRows() {
  const source = await getAgentByName(store, 'creditops-collector');
  const rows = await listCheckResults(store, source!.id);
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) latest.set(r.target ?? '', r);
  return latest;
}

describe('account drift', () => {
  it('an added account is drift naming it; approving clears it and records who approved', async () => {
    const { token } = await enrollAgent(store, 'web1');
    const { token: engineer } = await addUser(store, 'zhang.wei', 'engineer');
    const { token: viewer } = await addUser(store, 'bureau', 'viewer');
    const tree = join(dir, 'root');
    cpSync(GOOD, tree, { recursive: true });
    await reportInventory(token, tree);

    const source = app.probing.source;
    await sweepAccountDrift(store, source, 'creditops-collector');
    expect((await driftRows()).get('web1')).toMatchObject({ status: 'WARN' });
    expect((await driftRows()).get('web1')!.summary).toContain('尚无经批准的账户基线');

    const approve = (auth: string | null, body: object = {}) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/accounts/web1/approve',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        payload: JSON.stringify(body),
      });
    expect((await approve(null)).statusCode).toBe(401);
    expect((await approve(viewer)).statusCode).toBe(403);
    const initial = await approve(engineer, { note: '信用局审批单 2026-017' });
    expect(initial.statusCode).toBe(200);
    expect(initial.json()).toMatchObject({
      approvedBy: 'zhang.wei',
      approved: expect.arrayContaining([{ account: 'ops', change: 'initial' }]),
    });
    expect((await driftRows()).get('web1')).toMatchObject({ status: 'OK' });

    // Someone adds an account without approval.
    appendFileSync(join(tree, 'etc/passwd'), 'backdoor:x:1001:1001::/home/backdoor:/bin/bash\n');
    appendFileSync(join(tree, 'etc/group'), 'sudo2:x:1002:backdoor\n');
    clock.ms += 86_400_000;
    await reportInventory(token, tree);
    await sweepAccountDrift(store, source, 'creditops-collector');
    let rows = await driftRows();
    expect(rows.get('web1:backdoor')).toMatchObject({ check: 'accounts.drift', status: 'CRIT' });
    expect(rows.get('web1:backdoor')!.summary).toBe('主机 web1 的账户 backdoor 未经批准新增');
    expect(rows.get('web1')).toMatchObject({ status: 'CRIT' });
    const shown = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts/web1',
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(shown.json().drift).toEqual([expect.objectContaining({ account: 'backdoor', change: 'added' })]);

    const approved = await approve(engineer, { accounts: ['backdoor'], note: '补办审批' });
    expect(approved.json()).toMatchObject({ approved: [{ account: 'backdoor', change: 'added' }] });
    rows = await driftRows();
    expect(rows.get('web1:backdoor')).toMatchObject({ status: 'OK' });
    expect(rows.get('web1')).toMatchObject({ status: 'OK' });
    const after = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts/web1',
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(after.json().approvals[0]).toMatchObject({
      account: 'backdoor',
      change: 'added',
      approved_by: 'zhang.wei',
      note: '补办审批',
    });
  });

  it('reads the inventory: groups, sudo through %group, key fingerprints', async () => {
    const accounts = await readAccounts(new LocalHost({ root: GOOD }));
    const ops = accounts.find((a) => a.name === 'ops')!;
    expect(ops).toMatchObject({
      uid: 1000,
      login: true,
      groups: ['ops', 'sudo'],
      sudo: ['%sudo ALL=(ALL:ALL) ALL'],
    });
    expect(ops.keys).toEqual([expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/)]);
    expect(accounts.find((a) => a.name === 'daemon')).toMatchObject({ login: false, sudo: [] });
  });
});
