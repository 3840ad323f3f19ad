import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../lib/wire/push.js';
import { AgentExistsError, authenticateAgent, enrollAgent, listAgents } from './agents.js';
import { listCheckResults, recordCheckResults } from './check-results.js';
import { openStore, type Store } from './store.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'creditops-store-'));
  store = await openStore(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const result = (seq: number, summary = `result ${seq}`): CheckResult => ({
  seq,
  check: 'backup.restore_test',
  status: 'OK',
  summary,
  details: { restoredRows: 12 },
  observedAt: '2025-03-03T08:00:00Z',
});

describe('openStore', () => {
  it('uses WAL, a busy timeout, and is idempotent across reopenings', async () => {
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    expect(mode.rows[0]?.journal_mode).toBe('wal');
    const busy = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
    expect(busy.rows[0]?.timeout).toBe(5000);
    await enrollAgent(store, 'web-01');
    await store.close();
    store = await openStore(dir);
    expect((await listAgents(store)).map((a) => a.name)).toEqual(['web-01']);
  });
});

describe('enrollAgent / authenticateAgent', () => {
  it('issues a cro_ token once and authenticates with it', async () => {
    const { token, agent } = await enrollAgent(store, 'web-01');
    expect(token).toMatch(/^cro_[A-Za-z0-9_-]{43}$/);
    expect((await authenticateAgent(store, token))?.id).toBe(agent.id);
    expect(
      await authenticateAgent(store, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`),
    ).toBeNull();
    expect(await authenticateAgent(store, '')).toBeNull();
    expect(await authenticateAgent(store, 'cro_short')).toBeNull();
  });

  it('refuses to enrol a name twice unless rotating, and rotation retires the old token', async () => {
    const first = await enrollAgent(store, 'web-01');
    await expect(enrollAgent(store, 'web-01')).rejects.toBeInstanceOf(AgentExistsError);
    const second = await enrollAgent(store, 'web-01', { rotate: true });
    expect(second.rotated).toBe(true);
    expect(second.agent.id).toBe(first.agent.id);
    expect(await authenticateAgent(store, first.token)).toBeNull();
    expect((await authenticateAgent(store, second.token))?.name).toBe('web-01');
  });

  it('rejects names that cannot be a host label value people read', async () => {
    await expect(enrollAgent(store, '')).rejects.toThrow(/invalid agent name/);
    await expect(enrollAgent(store, 'web 01')).rejects.toThrow(/invalid agent name/);
  });

  it('stores a hash, not the token', async () => {
    const { token } = await enrollAgent(store, 'web-01');
    const rows = await store.db.selectFrom('agents').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token.slice(4));
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('recordCheckResults', () => {
  it('stores each (agent, seq) once and acks every seq of every call', async () => {
    const { agent } = await enrollAgent(store, 'web-01');
    expect(await recordCheckResults(store, agent.id, [result(1), result(2)])).toEqual({
      acked: [1, 2],
      inserted: 2,
    });
    expect(await recordCheckResults(store, agent.id, [result(2, 'changed'), result(3), result(3)])).toEqual({
      acked: [2, 3],
      inserted: 1,
    });
    const rows = await listCheckResults(store, agent.id);
    expect(rows.map((r) => [r.seq, r.summary])).toEqual([
      [1, 'result 1'],
      [2, 'result 2'],
      [3, 'result 3'],
    ]);
    expect(JSON.parse(rows[0]!.details!)).toEqual({ restoredRows: 12 });
  });

  it('keeps seqs of different agents apart', async () => {
    const a = (await enrollAgent(store, 'a')).agent;
    const b = (await enrollAgent(store, 'b')).agent;
    await recordCheckResults(store, a.id, [result(1)]);
    expect((await recordCheckResults(store, b.id, [result(1)])).inserted).toBe(1);
  });

  it('stores a large replay in batches within SQLite’s parameter limit', async () => {
    const { agent } = await enrollAgent(store, 'web-01');
    const many = Array.from({ length: 10_000 }, (_, i) => result(i + 1));
    const outcome = await recordCheckResults(store, agent.id, many);
    expect(outcome.inserted).toBe(10_000);
    expect(outcome.acked).toHaveLength(10_000);
  });

  it('acks nothing when the transaction fails', async () => {
    await expect(recordCheckResults(store, 'no-such-agent', [result(1)])).rejects.toThrow(/FOREIGN KEY/);
  });
});
