// PostgreSQL roles in the account inventory: the agent's postgres collector against a real server
// reports `accounts.postgres`, pushed to the collector like any verdict; drift names the role as
// `postgres/<server>:<role>` and is approved through the accounts API.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresCollector } from '../../agent/collectors/postgres/collector.js';
import { collectOnce, verdictOf } from '../../agent/collectors/postgres/test-kit.js';
import { readAccounts } from '../../probes/accounts/inventory.js';
import { LocalHost } from '../../probes/hosts/local-host.js';
import { hasServer, type PgMajor, type PgServer, startPostgres } from '../../test/helpers/postgres.js';
import type { buildApp } from '../app.js';
import { enrollAgent, getAgentByName } from '../store/agents.js';
import { listCheckResults } from '../store/check-results.js';
import type { Store } from '../store/store.js';
import { addUser } from '../store/users.js';
import { payload, type TestCollector, testCollector } from '../test-helper.js';
import { sweepAccountDrift } from './sweep.js';

const MAJOR = ([17, 18, 15, 14] as PgMajor[]).find(hasServer);
const GOOD = join(import.meta.dirname, '../../probes/security/fixtures/good');
const PASSWORD = 'Mon-itor#pw-7305';
const secrets = mkdtempSync(join(tmpdir(), 'creditops-pg-roles-'));
const passwordFile = join(secrets, 'monitor.password');
writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

let server: PgServer;
let collector: TestCollector;
let store: Store;
let app: ReturnType<typeof buildApp>;
const clock = { ms: Date.parse('2026-03-02T08:00:00Z') };

beforeAll(async () => {
  server = await startPostgres({
    major: MAJOR!,
    hbaFirst: ['host all creditops_monitor 127.0.0.1/32 scram-sha-256'],
  });
  await server.query(`CREATE ROLE creditops_monitor LOGIN PASSWORD '${PASSWORD}'`);
  await server.query('GRANT pg_monitor TO creditops_monitor');
  await server.query("CREATE ROLE app_writer LOGIN PASSWORD 'w' VALID UNTIL '2027-01-01 00:00:00+00'");
  await server.query('CREATE ROLE readers NOLOGIN');
  await server.query('GRANT readers TO app_writer');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(secrets, { recursive: true, force: true });
});

beforeEach(async () => {
  collector = await testCollector({ ticketSweepSeconds: 0 }, { clock, probing: { schedule: false } });
  ({ store, app } = collector);
});
afterEach(async () => {
  await collector.close();
});

const log = pino({ level: 'silent' });
let seq = 0;

/** One scrape of the server by the agent's collector; its role inventory pushed as agent web1. */
async function reportRoles(token: string | undefined, user = 'creditops_monitor') {
  const collector = createPostgresCollector(
    {
      servers: [
        {
          name: 'main',
          host: '127.0.0.1',
          port: server.port,
          user,
          database: 'postgres',
          ...(user === 'creditops_monitor' ? { passwordFile } : {}),
          sslmode: 'disable',
          includeDatabases: [],
          excludeDatabases: [],
        },
      ],
      largestTables: 0,
    },
    { log },
  );
  try {
    const run = await collectOnce(collector, log);
    const v = verdictOf(run, 'accounts.postgres', 'main');
    expect(v).toBeDefined();
    if (token) await push(token, [{ ...v!, seq: ++seq, observedAt: new Date(clock.ms).toISOString() }]);
    return v!;
  } finally {
    await collector.close();
  }
}

async function push(token: string, checks: object[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/push',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(payload('web1', [], checks as never)),
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

describe.skipIf(MAJOR === undefined)('PostgreSQL roles in the account baseline', () => {
  it('reports each role with its attributes; a pg_monitor role cannot tell whether a password is set', async () => {
    const { token } = await enrollAgent(store, 'web1');
    const v = await reportRoles(token);
    const evidence = v.details!.evidence as { roles: Record<string, unknown>[]; passwordReadable: boolean };
    expect(evidence.passwordReadable).toBe(false);
    expect(v.summary).toContain('无权读取 pg_authid');
    const names = evidence.roles.map((r) => r.rolname);
    expect(names).toEqual(expect.arrayContaining(['postgres', 'creditops_monitor', 'app_writer', 'readers']));
    // Predefined roles are not accounts anyone creates; they are left out.
    expect(names.some((n) => String(n).startsWith('pg_'))).toBe(false);
    expect(evidence.roles.find((r) => r.rolname === 'app_writer')).toEqual({
      rolname: 'app_writer',
      superuser: false,
      createrole: false,
      createdb: false,
      canlogin: true,
      replication: false,
      bypassrls: false,
      passwordSet: null,
      validUntil: '2027-01-01T00:00:00Z',
      memberOf: ['readers'],
    });
    expect(evidence.roles.find((r) => r.rolname === 'creditops_monitor')).toMatchObject({
      memberOf: ['pg_monitor'],
    });
    expect(evidence.roles.find((r) => r.rolname === 'postgres')).toMatchObject({
      superuser: true,
      canlogin: true,
    });
  });

  it('a role that may read pg_authid tells whether each role has a password', async () => {
    const v = await reportRoles(undefined, 'postgres');
    const evidence = v.details!.evidence as { roles: Record<string, unknown>[]; passwordReadable: boolean };
    expect(evidence.passwordReadable).toBe(true);
    expect(evidence.roles.find((r) => r.rolname === 'app_writer')).toMatchObject({ passwordSet: true });
    expect(evidence.roles.find((r) => r.rolname === 'readers')).toMatchObject({ passwordSet: false });
  });

  it('a role created or dropped after approval is drift naming it; approving through the API clears it', async () => {
    const { token } = await enrollAgent(store, 'web1');
    const { token: engineer } = await addUser(store, 'zhang.wei', 'engineer');
    const approve = (body: object) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/accounts/web1/approve',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${engineer}` },
        payload: JSON.stringify(body),
      });
    const source = app.probing.source;

    // The host's local accounts are approved first; the server's roles then wait for their own
    // first approval instead of all drifting.
    const accounts = await readAccounts(new LocalHost({ root: GOOD }));
    await push(token, [
      {
        seq: ++seq,
        check: 'accounts.inventory',
        status: 'OK',
        summary: `${accounts.length} 个账户`,
        details: { accounts },
        observedAt: new Date(clock.ms).toISOString(),
      },
    ]);
    expect((await approve({})).statusCode).toBe(200);
    await reportRoles(token);
    await sweepAccountDrift(store, source, 'creditops-collector');
    let rows = await driftRows();
    expect(rows.get('web1:postgres/main')).toMatchObject({ status: 'WARN' });
    expect(rows.get('web1')).toMatchObject({ status: 'WARN' });
    expect([...rows.values()].filter((r) => r.status === 'CRIT')).toEqual([]);

    const initial = await approve({ note: '信用局审批单 2026-031' });
    expect(initial.json().approved).toEqual(
      expect.arrayContaining([{ account: 'postgres/main:app_writer', change: 'initial' }]),
    );
    rows = await driftRows();
    expect(rows.get('web1')).toMatchObject({ status: 'OK' });
    expect(rows.get('web1:postgres/main:app_writer')).toMatchObject({ status: 'OK' });
    expect(rows.get('web1:ops')).toMatchObject({ status: 'OK' });

    // Someone creates a role and makes an existing one a superuser, without approval.
    await server.query('CREATE ROLE intruder LOGIN');
    await server.query('ALTER ROLE readers SUPERUSER');
    clock.ms += 3_600_000;
    await reportRoles(token);
    await sweepAccountDrift(store, source, 'creditops-collector');
    rows = await driftRows();
    expect(rows.get('web1:postgres/main:intruder')).toMatchObject({
      check: 'accounts.drift',
      status: 'CRIT',
    });
    expect(rows.get('web1:postgres/main:intruder')!.summary).toBe(
      '主机 web1 的数据库角色 postgres/main:intruder 未经批准新增',
    );
    expect(rows.get('web1:postgres/main:readers')).toMatchObject({ status: 'CRIT' });
    expect(rows.get('web1:postgres/main:readers')!.summary).toContain('superuser');
    expect(rows.get('web1')).toMatchObject({ status: 'CRIT' });
    expect(rows.get('web1:ops')).toMatchObject({ status: 'OK' });

    const shown = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts/web1',
      headers: { authorization: `Bearer ${engineer}` },
    });
    expect(shown.json().drift).toEqual([
      expect.objectContaining({ account: 'postgres/main:intruder', change: 'added' }),
      expect.objectContaining({ account: 'postgres/main:readers', change: 'changed', fields: ['superuser'] }),
    ]);

    const approved = await approve({ accounts: ['postgres/main:intruder'], note: '补办审批' });
    expect(approved.json()).toMatchObject({
      approvedBy: 'zhang.wei',
      approved: [{ account: 'postgres/main:intruder', change: 'added' }],
    });
    rows = await driftRows();
    expect(rows.get('web1:postgres/main:intruder')).toMatchObject({ status: 'OK' });
    expect(rows.get('web1:postgres/main:readers')).toMatchObject({ status: 'CRIT' });
    await server.query('ALTER ROLE readers NOSUPERUSER');

    // A role dropped without approval.
    await server.query('DROP ROLE intruder');
    clock.ms += 3_600_000;
    await reportRoles(token);
    await sweepAccountDrift(store, source, 'creditops-collector');
    rows = await driftRows();
    expect(rows.get('web1:postgres/main:intruder')).toMatchObject({ status: 'CRIT' });
    expect(rows.get('web1:postgres/main:intruder')!.summary).toBe(
      '主机 web1 的数据库角色 postgres/main:intruder 未经批准删除',
    );
    expect(rows.get('web1:postgres/main:readers')).toMatchObject({ status: 'OK' });

    await approve({ accounts: ['postgres/main:intruder'] });
    rows = await driftRows();
    expect(rows.get('web1:postgres/main:intruder')).toMatchObject({ status: 'OK' });
    expect(rows.get('web1')).toMatchObject({ status: 'OK' });
    const after = await app.inject({
      method: 'GET',
      url: '/api/v1/accounts/web1',
      headers: { authorization: `Bearer ${engineer}` },
    });
    expect(after.json().approvals[0]).toMatchObject({
      account: 'postgres/main:intruder',
      change: 'removed',
      approved_by: 'zhang.wei',
    });
  });
});
