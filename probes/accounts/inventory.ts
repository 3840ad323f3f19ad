/**
 * The local accounts of a host, as the bureau approves them (DOMAIN.md §1: accounts are added,
 * changed or deleted only after approval): shell, UID, groups, sudo rights and authorized SSH key
 * fingerprints. The probe always answers OK with the inventory as evidence; the collector compares
 * it with the approved baseline and reports drift.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { type Host, listOptional, readOptional } from '../host.js';
import { parsePasswd } from '../security/parse.js';
import type { ProbeDescriptor } from '../types.js';

export interface AccountEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  /** A shell other than nologin/false: the account can log in interactively. */
  login: boolean;
  groups: string[];
  /** sudoers lines that grant this account (directly or through a %group). */
  sudo: string[];
  /** SHA256 fingerprints of the keys in ~/.ssh/authorized_keys. */
  keys: string[];
}

export function keyFingerprint(line: string): string | undefined {
  const m = /(?:^|\s)((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/=]+)/.exec(line);
  if (!m) return undefined;
  return `SHA256:${createHash('sha256').update(Buffer.from(m[2]!, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

export function parseGroups(text: string): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    for (const user of f[3]!.trim().split(',').filter(Boolean))
      members.set(user, [...(members.get(user) ?? []), f[0]!]);
  }
  return members;
}

export function parseGroupNames(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3) names.set(Number(f[2]), f[0]!);
  }
  return names;
}

/** sudoers rules by the user or %group they name (Defaults and aliases are left out). */
export function parseSudoers(text: string): { who: string; rule: string }[] {
  const out: { who: string; rule: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#(?!include).*/, '').trim();
    if (!line || /^(Defaults|User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|@include|#include)/.test(line))
      continue;
    const m = /^(%?[\w.-]+)\s+(.+)$/.exec(line);
    if (m) out.push({ who: m[1]!, rule: line });
  }
  return out;
}

export async function readAccounts(host: Host): Promise<AccountEntry[]> {
  const passwd = parsePasswd(await host.readFile('/etc/passwd'));
  const groupText = (await readOptional(host, '/etc/group')) ?? '';
  const members = parseGroups(groupText);
  const groupNames = parseGroupNames(groupText);
  let sudoText = (await readOptional(host, '/etc/sudoers').catch(() => undefined)) ?? '';
  for (const f of await listOptional(host, '/etc/sudoers.d').catch(() => [])) {
    if (!f.includes('.') && !f.endsWith('~'))
      sudoText += `\n${(await readOptional(host, `/etc/sudoers.d/${f}`).catch(() => undefined)) ?? ''}`;
  }
  const rules = parseSudoers(sudoText);
  const accounts: AccountEntry[] = [];
  for (const e of passwd) {
    const primary = groupNames.get(e.gid);
    const groups = [...new Set([...(primary ? [primary] : []), ...(members.get(e.name) ?? [])])].sort();
    const sudo = rules
      .filter((r) => r.who === e.name || (r.who.startsWith('%') && groups.includes(r.who.slice(1))))
      .map((r) => r.rule);
    const login = !/(nologin|false|sync|halt|shutdown)$/.test(e.shell);
    const keysText = login
      ? await readOptional(host, `${e.home}/.ssh/authorized_keys`).catch(() => undefined)
      : undefined;
    const keys = (keysText ?? '')
      .split('\n')
      .map(keyFingerprint)
      .filter((k): k is string => k !== undefined)
      .sort();
    accounts.push({
      name: e.name,
      uid: e.uid,
      gid: e.gid,
      home: e.home,
      shell: e.shell,
      login,
      groups,
      sudo,
      keys,
    });
  }
  return accounts;
}

export const accountInventory: ProbeDescriptor = {
  id: 'accounts.inventory',
  category: 'security',
  title: '账户清单（用于审批基线比对）',
  remediation:
    '账户的新增、变更、删除须经主管部门审批；未经审批的变更应撤回，或补办审批后在 creditops 中批准。',
  clause: 'GB/T 22239-2019 8.1.4.2 a) b) c)',
  crossRef: ['Lynis AUTH-9234'],
  options: Type.Object({}),
  async run({ host }) {
    const accounts = await readAccounts(host);
    const login = accounts.filter((a) => a.login);
    return [
      {
        status: 'OK',
        summary: `共 ${accounts.length} 个账户，其中 ${login.length} 个可登录、${accounts.filter((a) => a.sudo.length > 0).length} 个有 sudo 权限`,
        details: { accounts },
      },
    ];
  },
};
