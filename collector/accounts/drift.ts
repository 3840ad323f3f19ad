/**
 * Account drift: the latest inventory of a host (the `accounts.inventory` result its agent or the
 * SSH path reported) against the baseline the bureau approved. Every account added, changed or
 * removed since approval is a CRIT check result naming it (`accounts.drift`, target
 * `<host>:<account>`), stored by the collector's source so it reaches tickets like any other
 * failing check; approving writes the current state into the baseline, clears the drift and
 * records who approved it.
 *
 * PostgreSQL roles join the same inventory: the agent's postgres collector reports an
 * `accounts.postgres` result per server (target: the server name) with each role's attributes.
 * Each role becomes an entry named `postgres/<server>:<role>`, so its drift is
 * `<host>:postgres/<server>:<role>` and it is approved through the same API by that name. A server
 * whose roles were never approved waits for its first approval (one WARN) instead of drifting.
 */
import { randomUUID } from 'node:crypto';
import type { AccountEntry } from '../../probes/accounts/inventory.js';
import type { SourceResult } from '../probes/source.js';
import { getAgentByName } from '../store/agents.js';
import { probeDb } from '../store/probe-tables.js';
import type { Store } from '../store/store.js';

export const DRIFT_CHECK = 'accounts.drift';
export const ROLES_CHECK = 'accounts.postgres';
const FIELDS = ['uid', 'gid', 'home', 'shell', 'groups', 'sudo', 'keys'] as const;
const ROLE_FIELDS = [
  'superuser',
  'createrole',
  'createdb',
  'canlogin',
  'replication',
  'bypassrls',
  'passwordSet',
  'validUntil',
  'memberOf',
] as const;

/** A PostgreSQL role as the agent's postgres collector reports it (agent/collectors/postgres/checks.ts). */
export interface PostgresRoleEntry {
  kind: 'postgres';
  /** `postgres/<server>:<rolname>`. */
  name: string;
  server: string;
  rolname: string;
  superuser: boolean;
  createrole: boolean;
  createdb: boolean;
  canlogin: boolean;
  replication: boolean;
  bypassrls: boolean;
  /** null: the monitoring role could not read pg_authid. */
  passwordSet: boolean | null;
  validUntil: string | null;
  memberOf: string[];
}

export type InventoryEntry = AccountEntry | PostgresRoleEntry;

function isRole(e: InventoryEntry): e is PostgresRoleEntry {
  return (e as { kind?: string }).kind === 'postgres';
}

/** What is approved for the first time as a whole: the local accounts, or one server's roles. */
function groupOf(e: InventoryEntry): string {
  return isRole(e) ? `postgres/${e.server}` : 'local';
}

export interface AccountDrift {
  account: string;
  change: 'added' | 'removed' | 'changed';
  fields: string[];
  before: InventoryEntry | null;
  after: InventoryEntry | null;
}

function changedFields(a: InventoryEntry, b: InventoryEntry): string[] {
  if (isRole(a) !== isRole(b)) return ['kind'];
  const fields: readonly string[] = isRole(a) ? ROLE_FIELDS : FIELDS;
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  return fields.filter((f) => JSON.stringify(x[f]) !== JSON.stringify(y[f]));
}

export function diffAccounts(baseline: InventoryEntry[], current: InventoryEntry[]): AccountDrift[] {
  const before = new Map(baseline.map((a) => [a.name, a]));
  const after = new Map(current.map((a) => [a.name, a]));
  const drift: AccountDrift[] = [];
  for (const [name, a] of after) {
    const b = before.get(name);
    if (!b) {
      drift.push({ account: name, change: 'added', fields: [], before: null, after: a });
      continue;
    }
    const fields = changedFields(a, b);
    if (fields.length > 0) drift.push({ account: name, change: 'changed', fields, before: b, after: a });
  }
  for (const [name, b] of before)
    if (!after.has(name))
      drift.push({ account: name, change: 'removed', fields: [], before: b, after: null });
  return drift.sort((x, y) => x.account.localeCompare(y.account));
}

/** The latest reported roles of each PostgreSQL server the host's agent monitors. */
async function latestRoles(
  store: Store,
  agentId: string,
): Promise<{ roles: PostgresRoleEntry[]; observedAt: string } | undefined> {
  const latest = await store.db
    .selectFrom('check_results')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('agent_id', '=', agentId)
    .where('check', '=', ROLES_CHECK)
    .groupBy('target')
    .execute();
  if (latest.length === 0) return undefined;
  const rows = await store.db
    .selectFrom('check_results')
    .select(['target', 'details', 'observed_at'])
    .where('agent_id', '=', agentId)
    .where(
      'seq',
      'in',
      latest.map((r) => Number(r.seq)),
    )
    .execute();
  const roles: PostgresRoleEntry[] = [];
  let observedAt = '';
  for (const row of rows) {
    if (!row.details || !row.target) continue;
    const details = JSON.parse(row.details) as {
      evidence?: { roles?: Omit<PostgresRoleEntry, 'kind' | 'name' | 'server'>[] };
    };
    for (const r of details.evidence?.roles ?? [])
      roles.push({ ...r, kind: 'postgres', name: `postgres/${row.target}:${r.rolname}`, server: row.target });
    if (row.observed_at > observedAt) observedAt = row.observed_at;
  }
  return { roles, observedAt };
}

/**
 * The latest reported inventory of the host: its local accounts (from its agent, or from the
 * collector's SSH path) and the roles of the PostgreSQL servers its agent monitors.
 */
export async function latestInventory(
  store: Store,
  host: string,
  sourceName: string,
): Promise<{ accounts: InventoryEntry[]; observedAt: string } | undefined> {
  const agent = await getAgentByName(store, host);
  const local = await latestLocalAccounts(store, host, sourceName);
  const roles = agent && agent.name !== sourceName ? await latestRoles(store, agent.id) : undefined;
  if (!local && !roles) return undefined;
  const observedAt = [local?.observedAt ?? '', roles?.observedAt ?? ''].sort().at(-1)!;
  return { accounts: [...(local?.accounts ?? []), ...(roles?.roles ?? [])], observedAt };
}

async function latestLocalAccounts(
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

export async function readBaseline(store: Store, host: string): Promise<InventoryEntry[]> {
  const rows = await probeDb(store)
    .selectFrom('account_baselines')
    .select('snapshot')
    .where('host', '=', host)
    .execute();
  return rows.map((r) => JSON.parse(r.snapshot) as InventoryEntry);
}

const CHANGE_ZH = { added: '新增', removed: '删除', changed: '变更' } as const;

function kindZh(d: AccountDrift): string {
  return isRole((d.after ?? d.before)!) ? '数据库角色' : '账户';
}

/**
 * Splits a non-empty baseline's inventory: the groups (local accounts, one server's roles) with
 * nothing approved yet wait for their first approval; the rest is compared.
 */
function pendingGroups(
  baseline: InventoryEntry[],
  inventory: InventoryEntry[],
): { pending: Map<string, InventoryEntry[]>; current: InventoryEntry[] } {
  const approved = new Set(baseline.map(groupOf));
  const pending = new Map<string, InventoryEntry[]>();
  const current: InventoryEntry[] = [];
  for (const e of inventory) {
    const g = groupOf(e);
    if (approved.has(g)) current.push(e);
    else pending.set(g, [...(pending.get(g) ?? []), e]);
  }
  return { pending, current };
}

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
  const { pending, current } = pendingGroups(baseline, inventory.accounts);
  const drift = diffAccounts(baseline, current);
  const drifted = new Set(drift.map((d) => d.account));
  const results: SourceResult[] = drift.map((d) => ({
    check: DRIFT_CHECK,
    target: `${host}:${d.account}`,
    status: 'CRIT',
    summary: `主机 ${host} 的${kindZh(d)} ${d.account} 未经批准${CHANGE_ZH[d.change]}${d.fields.length > 0 ? `（${d.fields.join('、')}）` : ''}`,
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
        summary: `主机 ${host} 的${isRole(a) ? '数据库角色' : '账户'} ${a.name} 与批准基线一致`,
      });
  }
  // An approved removal leaves no baseline entry: its drift result is cleared here, or it would
  // stay the latest (CRIT) result of that target.
  const present = new Set([...baseline, ...inventory.accounts].map((a) => a.name));
  const removed = await probeDb(store)
    .selectFrom('account_approvals')
    .select('account')
    .distinct()
    .where('host', '=', host)
    .where('change', '=', 'removed')
    .execute();
  for (const { account } of removed) {
    if (!present.has(account) && !drifted.has(account))
      results.push({
        check: DRIFT_CHECK,
        target: `${host}:${account}`,
        status: 'OK',
        summary: `主机 ${host} 的 ${account} 已经批准删除`,
      });
  }
  for (const [group, entries] of pending)
    results.push({
      check: DRIFT_CHECK,
      target: `${host}:${group}`,
      status: 'WARN',
      summary: `主机 ${host} 的 ${group} 尚无经批准的基线（${entries.length} 个${group === 'local' ? '账户' : '角色'}待首次批准）`,
      details: { accounts: entries.map((a) => a.name) },
    });
  results.push({
    check: DRIFT_CHECK,
    target: host,
    status: drift.length > 0 ? 'CRIT' : pending.size > 0 ? 'WARN' : 'OK',
    summary:
      drift.length > 0
        ? `主机 ${host} 有 ${drift.length} 个账户变更未经批准`
        : pending.size > 0
          ? `主机 ${host} 有 ${[...pending.keys()].join('、')} 待首次批准`
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
  const { pending, current } = pendingGroups(baseline, inventory.accounts);
  const firstTime = new Set([...pending.values()].flat().map((a) => a.name));
  const drift = [
    ...diffAccounts(baseline, current),
    ...[...pending.values()]
      .flat()
      .map((a): AccountDrift => ({ account: a.name, change: 'added', fields: [], before: null, after: a })),
  ];
  const chosen = options.accounts ? drift.filter((d) => options.accounts!.includes(d.account)) : drift;
  const changeOf = (d: AccountDrift) => (firstTime.has(d.account) ? 'initial' : d.change);
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
          change: changeOf(d),
          snapshot: d.after ? JSON.stringify(d.after) : null,
          approved_by: approver,
          approved_at: at,
          note: options.note ?? null,
        })
        .execute();
    }
  });
  return { approved: chosen.map((d) => ({ account: d.account, change: changeOf(d) })) };
}

export async function listApprovals(store: Store, host: string) {
  return probeDb(store)
    .selectFrom('account_approvals')
    .selectAll()
    .where('host', '=', host)
    .orderBy('approved_at', 'desc')
    .execute();
}
