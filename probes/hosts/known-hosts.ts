/**
 * known_hosts matching (OpenSSH format): plain and `[host]:port` patterns, comma lists, and
 * hashed entries (`|1|salt|hash`, HMAC-SHA1 of the host pattern). Pure functions, so the SSH
 * host verifier can say whether a key is unknown or has changed.
 */
import { createHmac } from 'node:crypto';

export interface KnownHostKey {
  type: string;
  /** The key blob, base64 as in the file. */
  key: string;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return pattern.split(',').some((p) => p === name);
}

/** Every key the file lists for the name (revoked and cert-authority lines are skipped). */
export function knownKeysFor(text: string, name: string): KnownHostKey[] {
  const keys: KnownHostKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [pattern, type, key] = line.split(/\s+/);
    if (!pattern || !type || !key) continue;
    if (patternMatches(pattern, name)) keys.push({ type, key });
  }
  return keys;
}

export type HostKeyVerdict = 'known' | 'unknown' | 'changed';

/** Compares the key the server offered (its wire blob) with the file's entries for the name. */
export function verifyHostKey(text: string, name: string, offered: Buffer): HostKeyVerdict {
  const keys = knownKeysFor(text, name);
  if (keys.length === 0) return 'unknown';
  const b64 = offered.toString('base64');
  return keys.some((k) => k.key === b64) ? 'known' : 'changed';
}
