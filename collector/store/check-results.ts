/** Check results: stored once per (agent, seq) however often the agent replays them. */
import type { Transaction } from 'kysely';
import type { CheckResult, Inventory } from '../../lib/wire/push.js';
import type { CheckResultRow, Database } from './schema.js';
import type { Store } from './store.js';

export interface RecordOutcome {
  /** Every seq of the call, each now durably stored (including ones stored by an earlier push). */
  acked: number[];
  /** How many of them were new. */
  inserted: number;
}

export interface RecordOptions {
  /** Milliseconds since the epoch. */
  receivedAt?: number;
}

/** What one accepted push tells about the agent, written with its check results. */
export interface AgentHeartbeat {
  address: string | null;
  intervalSeconds: number;
  inventory?: Inventory | undefined;
}

// SQLite allows 32,766 bound parameters per statement; 9 columns × 500 rows stays well below.
const BATCH_ROWS = 500;

async function insertResults(
  trx: Transaction<Database>,
  agentId: string,
  results: readonly CheckResult[],
  receivedAt: string,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < results.length; i += BATCH_ROWS) {
    const rows = results.slice(i, i + BATCH_ROWS).map((r) => ({
      agent_id: agentId,
      seq: r.seq,
      check: r.check,
      target: r.target ?? null,
      status: r.status,
      summary: r.summary,
      details: r.details === undefined ? null : JSON.stringify(r.details),
      observed_at: new Date(r.observedAt).toISOString(),
      received_at: receivedAt,
    }));
    const outcome = await trx
      .insertInto('check_results')
      .values(rows)
      .onConflict((oc) => oc.columns(['agent_id', 'seq']).doNothing())
      .executeTakeFirst();
    inserted += Number(outcome.numInsertedOrUpdatedRows ?? 0n);
  }
  return inserted;
}

function ackedSeqs(results: readonly CheckResult[]): number[] {
  return [...new Set(results.map((r) => r.seq))].sort((a, b) => a - b);
}

/**
 * Stores check results idempotently per (agent, seq): a replayed seq keeps the first version.
 * Resolves with the acknowledged seqs only after the transaction has committed.
 */
export async function recordCheckResults(
  store: Store,
  agentId: string,
  results: readonly CheckResult[],
  options: RecordOptions = {},
): Promise<RecordOutcome> {
  const receivedAt = new Date(options.receivedAt ?? Date.now()).toISOString();
  const inserted = await store.db
    .transaction()
    .execute((trx) => insertResults(trx, agentId, results, receivedAt));
  return { acked: ackedSeqs(results), inserted };
}

/** One accepted push: its check results and the agent's heartbeat, in one transaction. */
export async function recordPush(
  store: Store,
  agentId: string,
  heartbeat: AgentHeartbeat,
  results: readonly CheckResult[],
  options: RecordOptions = {},
): Promise<RecordOutcome> {
  const receivedAt = new Date(options.receivedAt ?? Date.now()).toISOString();
  const inserted = await store.db.transaction().execute(async (trx) => {
    const n = await insertResults(trx, agentId, results, receivedAt);
    await trx
      .updateTable('agents')
      .set({
        last_seen_at: receivedAt,
        last_address: heartbeat.address,
        interval_seconds: heartbeat.intervalSeconds,
        ...(heartbeat.inventory ? { inventory: JSON.stringify(heartbeat.inventory) } : {}),
      })
      .where('id', '=', agentId)
      .execute();
    return n;
  });
  return { acked: ackedSeqs(results), inserted };
}

export async function listCheckResults(store: Store, agentId: string): Promise<CheckResultRow[]> {
  return store.db
    .selectFrom('check_results')
    .selectAll()
    .where('agent_id', '=', agentId)
    .orderBy('seq')
    .execute();
}
