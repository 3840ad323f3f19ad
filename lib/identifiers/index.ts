/**
 * Identifier check digits for data quality (DOMAIN.md §3): the unified social credit code
 * (统一社会信用代码, GB 32100-2015), the organisation code inside it (组织机构代码, GB 11714) and
 * the resident identity card number (居民身份证号码, GB 11643). Pure functions, no I/O.
 */

/** GB 32100 alphabet: digits and capitals without I, O, S, V, Z; a character's value is its index. */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** 3^(i−1) mod 31 for positions 1..17. */
export const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK = '10X98765432';

/**
 * `valid`: passes every rule. `pilot`: fails its check character but is on the allowlist of codes
 * issued during the early pilots (legal, reported as a warning). `invalid`: anything else.
 */
export type CodeStatus = 'valid' | 'pilot' | 'invalid';

export interface CodeVerdict {
  status: CodeStatus;
  /** Why the code is invalid or only a pilot code (English, for logs and details). */
  reason?: string;
}

/** The USCC check character for the first 17 characters, or undefined if one is not in the alphabet. */
export function usccCheckChar(first17: string): string | undefined {
  if (first17.length !== 17) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(first17[i]!);
    if (v < 0) return undefined;
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

function orgValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 90) return code - 55;
  return -1;
}

/** The GB 11714 check character for the 8-character body of an organisation code. */
export function organisationCheckChar(body8: string): string | undefined {
  if (body8.length !== 8) return undefined;
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const v = orgValue(body8[i]!);
    if (v < 0) return undefined;
    sum += v * ORG_WEIGHTS[i]!;
  }
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

/** Validates a 9-character organisation code (body of 8 plus its check character; a hyphen is allowed). */
export function checkOrganisationCode(code: string): CodeVerdict {
  const c = code.replace('-', '');
  if (!/^[0-9A-Z]{8}[0-9X]$/.test(c)) return { status: 'invalid', reason: 'format' };
  return organisationCheckChar(c.slice(0, 8)) === c[8]
    ? { status: 'valid' }
    : { status: 'invalid', reason: 'organisation code check character' };
}

const USCC_RE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/**
 * Validates a unified social credit code: format (positions 3–8 digits, every character in the
 * alphabet), the GB 11714 check of the organisation code in positions 9–17, and the check
 * character in position 18. A code on `pilotAllowlist` that fails a check is `pilot`, not invalid.
 */
export function checkUscc(code: string, pilotAllowlist?: ReadonlySet<string>): CodeVerdict {
  if (code.length !== 18) return { status: 'invalid', reason: 'length' };
  if (!USCC_RE.test(code)) return { status: 'invalid', reason: 'format' };
  let reason: string | undefined;
  if (usccCheckChar(code.slice(0, 17)) !== code[17]) reason = 'check character';
  else if (checkOrganisationCode(code.slice(8, 17)).status !== 'valid')
    reason = 'organisation code check character';
  if (reason === undefined) return { status: 'valid' };
  return pilotAllowlist?.has(code) ? { status: 'pilot', reason } : { status: 'invalid', reason };
}

/** The GB 11643 check character for the first 17 digits. */
export function residentIdCheckChar(first17: string): string | undefined {
  if (!/^\d{17}$/.test(first17)) return undefined;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11];
}

function isCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= days[m - 1]!;
}

/**
 * Validates an 18-character resident ID number: digits with a final digit or X, a real birth date
 * in positions 7–14 (from 1900, not after `today` when given as YYYY-MM-DD), the check character.
 */
export function checkResidentId(id: string, today?: string): CodeVerdict {
  if (!/^\d{17}[\dX]$/.test(id)) return { status: 'invalid', reason: 'format' };
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1900 || !isCalendarDate(y, m, d)) return { status: 'invalid', reason: 'birth date' };
  if (today !== undefined && id.slice(6, 14) > today.replaceAll('-', '')) {
    return { status: 'invalid', reason: 'birth date in the future' };
  }
  return residentIdCheckChar(id.slice(0, 17)) === id[17]
    ? { status: 'valid' }
    : { status: 'invalid', reason: 'check character' };
}
