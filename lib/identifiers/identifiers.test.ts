import { describe, expect, it } from 'vitest';
import { checkOrganisationCode, checkResidentId, checkUscc } from './index.js';

// A second, deliberately different computation of each check character, so the valid codes in the
// tables do not come from the code under test.
const ALPHA = '0123456789ABCDEFGHJKLMNPQRTUWXY';
function refUscc17(s: string): string {
  let w = 1;
  let sum = 0;
  for (const ch of s) {
    sum += ALPHA.indexOf(ch) * w;
    w = (w * 3) % 31;
  }
  return ALPHA.charAt((31 - (sum % 31)) % 31);
}
function refOrg8(s: string): string {
  const w = [3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...s].reduce((acc, ch, i) => acc + Number.parseInt(ch, 36) * w[i]!, 0);
  const c = 11 - (sum % 11);
  return c === 11 ? '0' : c === 10 ? 'X' : String(c);
}
function refId17(s: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * (2 ** (17 - i) % 11);
  const c = (12 - (sum % 11)) % 11;
  return c === 10 ? 'X' : String(c);
}
/** A valid USCC from its 2-character prefix, division and 8-character organisation body. */
function uscc(prefix: string, division: string, org8: string): string {
  const first17 = `${prefix}${division}${org8}${refOrg8(org8)}`;
  return first17 + refUscc17(first17);
}
function residentId(area: string, birth: string, seq: string): string {
  const s = `${area}${birth}${seq}`;
  return s + refId17(s);
}
function flipLast(code: string, alphabet: string): string {
  const i = alphabet.indexOf(code[code.length - 1]!);
  return code.slice(0, -1) + alphabet[(i + 1) % alphabet.length];
}

describe('DOMAIN.md samples', () => {
  it('accepts the sample codes', () => {
    expect(checkUscc('91110000600037341L')).toEqual({ status: 'valid' });
    expect(checkUscc('91430111MA4L41YT1U')).toEqual({ status: 'valid' });
    expect(refUscc17('91110000600037341')).toBe('L');
    expect(refUscc17('91430111MA4L41YT1')).toBe('U');
  });
});

describe('USCC table', () => {
  const valid = [
    uscc('91', '110000', '60003734'),
    uscc('91', '430111', 'MA4L41YT'),
    uscc('91', '370200', '16356482'),
    uscc('92', '330106', 'MA2CD7F0'),
    uscc('93', '510100', '0000001A'),
    uscc('11', '100000', '00001369'),
    uscc('12', '370000', '49558741'),
    uscc('13', '310000', '425002X0'),
    uscc('31', '440000', '45565892'),
    uscc('51', '330000', '50000381'),
    uscc('52', '320506', 'MJ1234AB'),
    uscc('53', '110000', '50001234'),
    uscc('A1', '110108', '12345678'),
    uscc('N2', '330102', 'MA27XN3F'),
    uscc('Y1', '350200', '30412975'),
    uscc('G1', '500000', 'MA5U7KLQ'),
    uscc('91', '000000', '00000000'),
    uscc('59', '420100', 'MJ0Y8R7W'),
    uscc('71', '110000', 'H0000000'),
    uscc('81', '420000', '77000000'),
    uscc('YA', '350200', 'MA8RT0NB'),
  ];
  it.each(valid)('%s is valid', (code) => {
    expect(checkUscc(code)).toEqual({ status: 'valid' });
  });
  it('includes codes with letters in positions 1-2', () => {
    expect(valid.filter((c) => /^[A-Z]/.test(c)).length).toBeGreaterThanOrEqual(4);
    expect(valid.some((c) => /^[A-Z]{2}/.test(c))).toBe(true);
  });

  const invalid: [string, string][] = [
    [flipLast(valid[0]!, ALPHA), 'check character'],
    [flipLast(valid[1]!, ALPHA), 'check character'],
    [flipLast(valid[12]!, ALPHA), 'check character'],
    [flipLast(valid[13]!, ALPHA), 'check character'],
    [flipLast(valid[5]!, ALPHA), 'check character'],
    ['91110000600037341', 'length'],
    ['91110000600037341LL', 'length'],
    ['', 'length'],
    ['91110000600O37341L', 'format'], // letter O
    ['9111000060I037341L', 'format'], // letter I
    ['91110000600037S41L', 'format'], // letter S
    ['91V10000600037341L', 'format'], // letter V in the division
    ['9111000A600037341L', 'format'], // letter in the division
    ['91110000600037341l', 'format'], // lower case
    ['91110000 600037341', 'format'],
    ['Z1110000600037341L', 'format'],
    // Right check character, wrong organisation code check (position 17 changed, 18 recomputed).
    [
      (() => {
        const s = '9111000060003734' + '2';
        return s + refUscc17(s);
      })(),
      'organisation code check character',
    ],
    [
      (() => {
        const s = '91430111MA4L41YT' + '7';
        return s + refUscc17(s);
      })(),
      'organisation code check character',
    ],
    [flipLast(valid[19]!, ALPHA), 'check character'],
    [flipLast(valid[17]!, ALPHA), 'check character'],
  ];
  it.each(invalid)('%s is invalid (%s)', (code, reason) => {
    expect(checkUscc(code)).toEqual({ status: 'invalid', reason });
  });

  it('reports a pilot code on the allowlist as pilot, off it as invalid', () => {
    const pilot = flipLast(valid[2]!, ALPHA);
    expect(checkUscc(pilot, new Set([pilot]))).toEqual({ status: 'pilot', reason: 'check character' });
    expect(checkUscc(pilot, new Set())).toEqual({ status: 'invalid', reason: 'check character' });
    // The allowlist does not excuse malformed codes.
    expect(checkUscc('91110000600O37341L', new Set(['91110000600O37341L'])).status).toBe('invalid');
    // A valid code stays valid whether listed or not.
    expect(checkUscc(valid[0]!, new Set([valid[0]!]))).toEqual({ status: 'valid' });
  });
});

describe('organisation code (GB 11714)', () => {
  it.each([
    ['60003734-1', 'valid'],
    ['MA4L41YT1', 'valid'],
    [`12345678${refOrg8('12345678')}`, 'valid'],
    [`D2143569${refOrg8('D2143569')}`, 'valid'],
    ['60003734-2', 'invalid'],
    ['6000373', 'invalid'],
    ['60003734Y', 'invalid'],
  ])('%s is %s', (code, status) => {
    expect(checkOrganisationCode(code).status).toBe(status);
  });
  it('maps 10 to X and 11 to 0', () => {
    // Bodies whose weighted sums leave remainders 1 and 0.
    const bodies = Array.from({ length: 40 }, (_, i) => String(i).padStart(8, '0'));
    for (const b of bodies) expect(checkOrganisationCode(b + refOrg8(b)).status).toBe('valid');
    expect(bodies.map(refOrg8)).toContain('X');
    expect(bodies.map(refOrg8)).toContain('0');
  });
});

describe('resident ID table', () => {
  const valid = [
    residentId('110101', '19900307', '123'),
    residentId('110105', '19491001', '002'),
    residentId('310104', '20000229', '018'), // leap day
    residentId('440305', '19871231', '45'.padEnd(3, '7')),
    residentId('320106', '19760101', '992'),
    residentId('510107', '20101010', '101'),
    residentId('420102', '19550615', '334'),
    residentId('370202', '19690720', '555'),
    residentId('330106', '19991111', '678'),
    residentId('500103', '20051231', '899'),
    residentId('610113', '19820202', '010'),
    residentId('210102', '19630330', '020'),
    residentId('350203', '19780808', '030'),
    residentId('230103', '19000101', '040'),
    residentId('650102', '19960229', '050'),
    residentId('530102', '19881018', '060'),
    residentId('130102', '19941124', '070'),
    residentId('410105', '20020606', '080'),
    residentId('150102', '19710909', '090'),
    residentId('620102', '19660412', '101'),
  ];
  it.each(valid)('%s is valid', (id) => {
    expect(checkResidentId(id, '2026-11-30')).toEqual({ status: 'valid' });
  });
  it('includes a check character X', () => {
    const withX = ['11010119900307123', '11010519491001002', '44030519871231457']
      .concat(Array.from({ length: 200 }, (_, i) => `11010119900101${String(i).padStart(3, '0')}`))
      .map((s) => s + refId17(s))
      .find((id) => id.endsWith('X'))!;
    expect(withX).toBeDefined();
    expect(checkResidentId(withX)).toEqual({ status: 'valid' });
    expect(checkResidentId(withX.replace(/X$/, 'x')).status).toBe('invalid');
  });

  const invalid: [string, string][] = [
    [flipLast(valid[0]!, '0123456789X'), 'check character'],
    [flipLast(valid[1]!, '0123456789X'), 'check character'],
    [flipLast(valid[2]!, '0123456789X'), 'check character'],
    [flipLast(valid[5]!, '0123456789X'), 'check character'],
    [flipLast(valid[9]!, '0123456789X'), 'check character'],
    [residentId('310104', '20010229', '018'), 'birth date'], // not a leap year
    [residentId('310104', '19001301', '018'), 'birth date'],
    [residentId('310104', '19000230', '018'), 'birth date'],
    [residentId('310104', '19990431', '018'), 'birth date'],
    [residentId('310104', '19990000', '018'), 'birth date'],
    [residentId('310104', '18991231', '018'), 'birth date'],
    [residentId('310104', '20270101', '018'), 'birth date in the future'],
    [residentId('310104', '20261201', '018'), 'birth date in the future'],
    ['11010119900307123', 'format'],
    ['1101011990030712345', 'format'],
    ['11010119900307123A', 'format'],
    ['110101900307123', 'format'], // 15-digit first-generation number
    ['', 'format'],
    ['X10101199003071234', 'format'],
    ['11010119900307 234', 'format'],
  ];
  it.each(invalid)('%s is invalid (%s)', (id, reason) => {
    expect(checkResidentId(id, '2026-11-30')).toEqual({ status: 'invalid', reason });
  });
});
