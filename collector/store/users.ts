/**
 * People who use the API: a name, a role and a token (hashed exactly like agent tokens, see
 * tokens.ts). Roles: `admin` (everything), `engineer` (works tickets, maintenance windows),
 * `viewer` (the bureau: reads, changes nothing).
 */
import { randomUUID } from 'node:crypto';
import type { Store } from './store.js';
import { ticketDb } from './ticket-tables.js';
import { generateToken, hashToken, isWellFormedToken, tokenLookupPrefix, tokenMatches } from './tokens.js';

export const ROLES = ['admin', 'engineer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
}

export const USER_NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N}._@-]{0,199}$/u;

export class UserExistsError extends Error {
  constructor(readonly userName: string) {
    super(`user "${userName}" already exists; pass rotate: true (CLI: --rotate) to issue a new token`);
    this.name = 'UserExistsError';
  }
}

/** Adds a user (or, with rotate, replaces the token and role of an existing one); the token is returned once. */
export async function addUser(
  store: Store,
  name: string,
  role: Role,
  options: { rotate?: boolean; now?: () => number } = {},
): Promise<{ user: User; token: string; rotated: boolean }> {
  if (!USER_NAME_RE.test(name)) {
    throw new Error(
      `invalid user name "${name}": letters, digits, ".", "_", "@" and "-", at most 200 characters`,
    );
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new Error(`invalid role "${role}": one of ${ROLES.join(', ')}`);
  }
  const token = generateToken();
  const secret = { token_hash: hashToken(token), token_prefix: tokenLookupPrefix(token), role };
  const createdAt = new Date((options.now ?? Date.now)()).toISOString();
  const db = ticketDb(store);
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    if (existing) {
      if (!options.rotate) throw new UserExistsError(name);
      await trx.updateTable('users').set(secret).where('id', '=', existing.id).execute();
      return { user: { id: existing.id, name, role, createdAt: existing.created_at }, token, rotated: true };
    }
    const id = randomUUID();
    await trx
      .insertInto('users')
      .values({ id, name, ...secret, created_at: createdAt })
      .execute();
    return { user: { id, name, role, createdAt }, token, rotated: false };
  });
}

/** The user a token belongs to, or null. */
export async function authenticateUser(store: Store, token: string): Promise<User | null> {
  if (!isWellFormedToken(token)) return null;
  const candidates = await ticketDb(store)
    .selectFrom('users')
    .selectAll()
    .where('token_prefix', '=', tokenLookupPrefix(token))
    .execute();
  let found: User | null = null;
  for (const row of candidates) {
    if (tokenMatches(token, row.token_hash))
      found = { id: row.id, name: row.name, role: row.role as Role, createdAt: row.created_at };
  }
  return found;
}

export async function listUsers(store: Store): Promise<User[]> {
  const rows = await ticketDb(store).selectFrom('users').selectAll().orderBy('name').execute();
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at }));
}
