/**
 * Pure parsers for the files the security baseline reads: passwd, shadow, login.defs,
 * pwquality.conf, sshd_config, PAM stacks and /proc/net/{tcp,udp}{,6}. Tested on inline strings
 * and on the fixture trees.
 */

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 7) continue;
    entries.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]!.trim() });
  }
  return entries;
}

export interface ShadowEntry {
  name: string;
  /** The hash field: `` empty, `!`/`*` locked, otherwise a hash. */
  hash: string;
  maxDays: number | undefined;
}

export function parseShadow(text: string): ShadowEntry[] {
  const entries: ShadowEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 2) continue;
    const max = f[4] === undefined || f[4] === '' ? undefined : Number(f[4]);
    entries.push({ name: f[0]!, hash: f[1]!, maxDays: Number.isFinite(max) ? max : undefined });
  }
  return entries;
}

/** `KEY value` lines (login.defs) or `key = value` lines (pwquality.conf, auditd.conf). */
export function parseKeyValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (m) values.set(m[1]!, m[2]!.trim());
  }
  return values;
}

/**
 * sshd_config: the first value of a keyword wins (sshd_config(5)); `Match` blocks are left out
 * because they apply only to some connections. Keys are lower-cased.
 */
export function parseSshdConfig(text: string, into = new Map<string, string>()): Map<string, string> {
  let inMatch = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    if (key === 'match') {
      inMatch = true;
      continue;
    }
    if (inMatch) continue;
    if (!into.has(key)) into.set(key, m[2]!.trim());
  }
  return into;
}

/** The Include patterns of an sshd_config (relative ones are under /etc/ssh). */
export function sshdIncludes(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*include\s+(.+)$/i.exec(raw.replace(/#.*/, ''));
    if (m) for (const p of m[1]!.trim().split(/\s+/)) out.push(p.startsWith('/') ? p : `/etc/ssh/${p}`);
  }
  return out;
}

export interface PamLine {
  type: string;
  control: string;
  module: string;
  args: string[];
}

export function parsePam(text: string): PamLine[] {
  const lines: PamLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const bracket = /^(-?\w+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!bracket) continue;
    lines.push({
      type: bracket[1]!.replace(/^-/, ''),
      control: bracket[2]!,
      module: bracket[3]!.replace(/^.*\//, ''),
      args: bracket[4]!.split(/\s+/).filter(Boolean),
    });
  }
  return lines;
}

export function pamArg(line: PamLine, name: string): string | undefined {
  for (const a of line.args) {
    if (a === name) return '';
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

export interface Listener {
  protocol: 'tcp' | 'udp';
  address: string;
  port: number;
}

function hexIpv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  // /proc prints the address as a host-order (little-endian on x86 and arm) 32-bit word.
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

function hexIpv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const w = hex.slice(i, i + 8);
    const le = w.slice(6, 8) + w.slice(4, 6) + w.slice(2, 4) + w.slice(0, 2);
    words.push(le.slice(0, 4), le.slice(4, 8));
  }
  const full = words.map((w) => w.replace(/^0+(?=.)/, '').toLowerCase()).join(':');
  if (full === '0:0:0:0:0:0:0:0') return '::';
  if (full === '0:0:0:0:0:0:0:1') return '::1';
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(full);
  if (mapped) {
    const a = Number.parseInt(mapped[1]!, 16);
    const b = Number.parseInt(mapped[2]!, 16);
    return `::ffff:${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
  }
  return full;
}

/**
 * Listening sockets from /proc/net/tcp, tcp6 (state 0A, LISTEN) and udp, udp6 (state 07, an
 * unconnected socket that receives datagrams).
 */
export function parseProcNet(text: string, protocol: 'tcp' | 'udp', v6: boolean): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const state = f[3];
    if (protocol === 'tcp' ? state !== '0A' : state !== '07') continue;
    const [addr, port] = f[1]!.split(':');
    if (!addr || !port) continue;
    out.push({ protocol, address: v6 ? hexIpv6(addr) : hexIpv4(addr), port: Number.parseInt(port, 16) });
  }
  return out;
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** An umask value as a number; undefined when it is not octal. */
export function parseUmask(value: string): number | undefined {
  return /^0?[0-7]{3,4}$/.test(value) ? Number.parseInt(value, 8) : undefined;
}
