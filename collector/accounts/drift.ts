/**
 * Account drift: the latest inventory of a host (the `accounts.inventory` result its agent or the
 * SSH path reported) against the baseline the bureau approved. Every account added, changed or
 * removed since approval is a CRIT check result naming it (`accounts.drift`, target
 * `<host>:<account>`), stored by the collector's source so it reaches tickets like any other
 * failing check; approving writes the current state into the baseline, clears the drift and
 * records who approved it.
 */
import { randomUUID } from 'node:crypto';
import type { AccountEntry } from '../../probes/accounts/inventory.js';
import type { SourceResult } from '../probes/source.js';
import { getAgentByName } from '../store/agents.js';
import { probeDb } from '../store/probe-tables.js';
import type { Store } from '../store/store.js';

export const DRIFT_CHECK = 'accounts.drift';
const FIELDS = ['uid', 'gid', 'home', 'shell', 'groups', 'sudo', 'keys'] as const;

export interface AccountDrift {
  account: string;
  change: 'added' | 'removed' | 'changed';
  fields: string[];
  before: AccountEntry | null;
  after: AccountEntry | null;
}

export function diffAccounts(baseline: AccountEntry[], current: AccountEntry[]): AccountDrift[] {
  const before = new Map(baseline.map((a) => [a.name, a]));
  const after = new Map(current.map((a) => [a.name, a]));
  const drift: AccountDrift[] = [];
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b) {
      drift.push({ account: name, change: 'added', fields: [], before: null, after: a });
      continue;
    }
    const fields = FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
    if (fields.length > 0) drift.push({ account: name, change: 'changed', fields, before: b, after: a });
  }
  for (const [name, b] of before)
    if (!after.has(name))
      drift.push({ account: name, change: 'removed', fields: [], before: b, after: null });
  return drift.sort((x, y) => x.account.localeCompare(y.account));
}

/** The latest reported inventory of the host: from its agent, or from the collector's SSH path. */
export async function latestInventory(
  store: Store,
  host: string,
  sourceName: string,
): Promise<{ accounts: AccountEntry[]; observedAt: string } | undefined> {
  const agent = await getAgentByName(store, host);
  let query = store.db
    .selectFrom('check_results')
    .select(['details', 'observed_at'])
    .where('check', '=', 'accounts.inventory');
  if (agent && agent.name !== sourceName) query = query.where('agent_id', '=', agent.id);
  else {
    const source = await getAgentByName(store, sourceName);
    if (!source) return undefined;
    query = query.where('agent_id', '=', source.id).where('target', '=', host);
  }
  const row = await query.orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (!row?.details) return undefined;
  const details = JSON.parse(row.details) as { accounts?: AccountEntry[] };
  return details.accounts ? { accounts: details.accounts, observedAt: row.observed_at } : undefined;
}

export async function readBaseline(store: Store, host: string): Promise<AccountEntry[]> {
  const rows = await probeDb(store)
    .selectFrom('account_baselines')
    .select('snapshot')
    .where('host', '=', host)
    .execute();
  return rows.map((r) => JSON.parse(r.snapshot) as AccountEntry);
}

const CHANGE_ZH = { added: '新增', removed: '删除', changed: '变更' } as const;

/** The drift results of a host: one per account that drifted, and one OK per account that agrees. */
export async function driftResults(
  store: Store,
  host: string,
  sourceName: string,
): Promise<{ results: SourceResult[]; drift: AccountDrift[] }> {
  const inventory = await latestInventory(store, host, sourceName);
  if (!inventory) {
    return {
      drift: [],
      results: [
        { check: DRIFT_CHECK, target: host, status: 'UNKNOWN', summary: `主机 ${host} 尚未上报账户清单` },
      ],
    };
  }
  const baseline = await readBaseline(store, host);
  if (baseline.length === 0) {
    return {
      drift: [],
      results: [
        {
          check: DRIFT_CHECK,
          target: host,
          status: 'WARN',
          summary: `主机 ${host} 尚无经批准的账户基线（${inventory.accounts.length} 个账户待首次批准）`,
          details: { accounts: inventory.accounts.map((a) => a.name) },
        },
      ],
    };
  }
  const drift = diffAccounts(baseline, inventory.accounts);
  const drifted = new Set(drift.map((d) => d.account));
  const results: SourceResult[] = drift.map((d) => ({
    check: DRIFT_CHECK,
    target: `${host}:${d.account}`,
    status: 'CRIT',
    summary: `主机 ${host} 的账户 ${d.account} 未经批准${CHANGE_ZH[d.change]}${d.fields.length > 0 ? `（${d.fields.join('、')}）` : ''}`,
    details: {
      host,
      account: d.account,
      change: d.change,
      fields: d.fields,
      before: d.before,
      after: d.after,
      observedAt: inventory.observedAt,
    },
  }));
  for (const a of baseline) {
    if (!drifted.has(a.name))
      results.push({
        check: DRIFT_CHECK,
        target: `${host}:${a.name}`,
        status: 'OK',
        summary: `主机 ${host} 的账户 ${a.name} 与批准基线一致`,
      });
  }
  results.push({
    check: DRIFT_CHECK,
    target: host,
    status: drift.length > 0 ? 'CRIT' : 'OK',
    summary:
      drift.length > 0
        ? `主机 ${host} 有 ${drift.length} 个账户变更未经批准`
        : `主机 ${host} 的账户与批准基线一致`,
  });
  return { results, drift };
}

/**
 * Approves the host's current accounts (all drift, or only the named accounts) into the baseline
 * and logs each approval with who approved it.
 */
export async function approveAccounts(
  store: Store,
  host: string,
  sourceName: string,
  approver: string,
  options: { accounts?: string[]; note?: string; now: number },
): Promise<{ approved: { account: string; change: string }[] }> {
  const inventory = await latestInventory(store, host, sourceName);
  if (!inventory) throw new Error(`主机 ${host} 尚未上报账户清单，无法批准`);
  const baseline = await readBaseline(store, host);
  const initial = baseline.length === 0;
  const drift = initial
    ? inventory.accounts.map(
        (a): AccountDrift => ({ account: a.name, change: 'added', fields: [], before: null, after: a }),
      )
    : diffAccounts(baseline, inventory.accounts);
  const chosen = options.accounts ? drift.filter((d) => options.accounts!.includes(d.account)) : drift;
  const at = new Date(options.now).toISOString();
  const db = probeDb(store);
  await db.transaction().execute(async (trx) => {
    for (const d of chosen) {
      if (d.after) {
        await trx
          .insertInto('account_baselines')
          .values({
            host,
            account: d.account,
            snapshot: JSON.stringify(d.after),
            approved_by: approver,
            approved_at: at,
            note: options.note ?? null,
          })
          .onConflict((oc) =>
            oc.columns(['host', 'account']).doUpdateSet({
              snapshot: JSON.stringify(d.after),
              approved_by: approver,
              approved_at: at,
              note: options.note ?? null,
            }),
          )
          .execute();
      } else {
        await trx
          .deleteFrom('account_baselines')
          .where('host', '=', host)
          .where('account', '=', d.account)
          .execute();
      }
      await trx
        .insertInto('account_approvals')
        .values({
          id: randomUUID(),
          host,
          account: d.account,
          change: initial ? 'initial' : d.change,
          snapshot: d.after ? JSON.stringify(d.after) : null,
          approved_by: approver,
          approved_at: at,
          note: options.note ?? null,
        })
        .execute();
    }
  });
  return { approved: chosen.map((d) => ({ account: d.account, change: initial ? 'initial' : d.change })) };
}

export async function listApprovals(store: Store, host: string) {
  return probeDb(store)
    .selectFrom('account_approvals')
    .selectAll()
    .where('host', '=', host)
    .orderBy('approved_at', 'desc')
    .execute();
}
