/** Reads the agent's bearer token from the Authorization header, saying exactly what is wrong. */

export type BearerResult =
  | { ok: true; token: string }
  | { ok: false; error: 'missing_token' | 'invalid_authorization'; message: string };

export function readBearerToken(header: string | undefined): BearerResult {
  if (header === undefined || header.trim() === '') {
    return {
      ok: false,
      error: 'missing_token',
      message:
        'the Authorization header is missing: send "Authorization: Bearer <agent token>" (from `creditops agent enroll <name>`)',
    };
  }
  const m = /^(\S+)(?:\s+(.*))?$/.exec(header.trim());
  const scheme = m?.[1] ?? '';
  if (scheme.toLowerCase() !== 'bearer') {
    return {
      ok: false,
      error: 'invalid_authorization',
      message: `the Authorization header must use the Bearer scheme ("Authorization: Bearer cro_…"), not "${scheme.slice(0, 20)}"`,
    };
  }
  const token = (m?.[2] ?? '').trim();
  if (token === '') {
    return {
      ok: false,
      error: 'invalid_authorization',
      message: 'the Authorization header says Bearer but carries no token',
    };
  }
  return { ok: true, token };
}
