/**
 * Agent tokens: `cro_` + 32 random bytes in base64url (256 bits of entropy).
 *
 * Only a SHA-256 of the token is stored. A slow password hash (scrypt, argon2) protects
 * low-entropy secrets that people choose; a 256-bit random token cannot be guessed whatever the
 * hash, so scrypt would add nothing but tens of milliseconds of CPU to every push — a cost an
 * unauthenticated client could make us pay at will. The row is found by a short prefix of the
 * token (stored in clear; it leaves over 200 bits unknown) and the hashes are compared in
 * constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'cro_';
/** Characters of the random part kept in clear for the lookup. */
const LOOKUP_LENGTH = 8;
const TOKEN_RE = /^cro_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function isWellFormedToken(token: string): boolean {
  return TOKEN_RE.test(token);
}

export function tokenLookupPrefix(token: string): string {
  return token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + LOOKUP_LENGTH);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
