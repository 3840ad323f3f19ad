/** Enrolled agents: enrollment, token authentication, and what each agent last reported. */
import { randomUUID } from 'node:crypto';
import type { Inventory } from '../../lib/wire/push.js';
import type { AgentRow } from './schema.js';
import type { Store } from './store.js';
import { generateToken, hashToken, isWellFormedToken, tokenLookupPrefix, tokenMatches } from './tokens.js';

export interface Agent {
  id: string;
  name: string;
  createdAt: string;
  lastSeenAt: string | null;
  lastAddress: string | null;
  intervalSeconds: number | null;
  inventory: (Inventory & Record<string, unknown>) | null;
}

export class AgentExistsError extends Error {
  constructor(readonly agentName: string) {
    super(`agent "${agentName}" is already enrolled; pass rotate: true (CLI: --rotate) to issue a new token`);
    this.name = 'AgentExistsError';
  }
}

export const AGENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface EnrollOptions {
  /** Replace the token of an already enrolled agent; the old token stops working at once. */
  rotate?: boolean;
  now?: () => number;
}

export interface Enrollment {
  agent: Agent;
  /** The only time the token exists in clear: hand it to the agent now. */
  token: string;
  rotated: boolean;
}

function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    lastAddress: row.last_address,
    intervalSeconds: row.interval_seconds,
    inventory: row.inventory === null ? null : (JSON.parse(row.inventory) as Agent['inventory']),
  };
}

/**
 * Enrolls an agent under a unique name and returns its token, once. Enrolling a name again is an
 * AgentExistsError unless `rotate` is set, so a typo cannot silently lock out a running agent.
 */
export async function enrollAgent(
  store: Store,
  name: string,
  options: EnrollOptions = {},
): Promise<Enrollment> {
  if (!AGENT_NAME_RE.test(name)) {
    throw new Error(
      `invalid agent name "${name}": use letters, digits, ".", "_" and "-" (it becomes the host label), at most 200 characters`,
    );
  }
  const token = generateToken();
  const secret = { token_hash: hashToken(token), token_prefix: tokenLookupPrefix(token) };
  const now = new Date((options.now ?? Date.now)()).toISOString();
  return store.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('agents').selectAll().where('name', '=', name).executeTakeFirst();
    if (existing) {
      if (!options.rotate) throw new AgentExistsError(name);
      await trx.updateTable('agents').set(secret).where('id', '=', existing.id).execute();
      return { agent: toAgent({ ...existing, ...secret }), token, rotated: true };
    }
    const row: AgentRow = {
      id: randomUUID(),
      name,
      ...secret,
      created_at: now,
      last_seen_at: null,
      last_address: null,
      interval_seconds: null,
      inventory: null,
    };
    await trx.insertInto('agents').values(row).execute();
    return { agent: toAgent(row), token, rotated: false };
  });
}

/** The agent a token belongs to, or null. Malformed tokens are rejected without a query. */
export async function authenticateAgent(store: Store, token: string): Promise<Agent | null> {
  if (!isWellFormedToken(token)) return null;
  const candidates = await store.db
    .selectFrom('agents')
    .selectAll()
    .where('token_prefix', '=', tokenLookupPrefix(token))
    .execute();
  // Compare against every candidate (normally one) so the time taken does not depend on which matched.
  let found: AgentRow | null = null;
  for (const row of candidates) if (tokenMatches(token, row.token_hash)) found = row;
  return found === null ? null : toAgent(found);
}

export async function listAgents(store: Store): Promise<Agent[]> {
  const rows = await store.db.selectFrom('agents').selectAll().orderBy('name').execute();
  return rows.map(toAgent);
}

export async function getAgentByName(store: Store, name: string): Promise<Agent | null> {
  const row = await store.db.selectFrom('agents').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? toAgent(row) : null;
}
