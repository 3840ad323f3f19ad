/** Identity: no empty passwords, only root with UID 0, unique UIDs (GB/T 22239-2019 8.1.4.1 a, 8.1.4.2). */
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { parsePasswd, parseShadow } from './parse.js';

export const emptyPassword: ProbeDescriptor = {
  id: 'security.accounts.empty_password',
  category: 'security',
  title: '不存在空口令账户',
  remediation: '为空口令账户设置符合复杂度要求的口令（passwd <用户>），或锁定该账户（passwd -l <用户>）。',
  clause: 'GB/T 22239-2019 8.1.4.1 a)',
  crossRef: ['Lynis AUTH-9283', 'CIS 6.2.1'],
  options: Type.Object({}),
  async run({ host }) {
    const shadow = parseShadow(await host.readFile('/etc/shadow'));
    const empty = shadow.filter((e) => e.hash === '').map((e) => e.name);
    if (empty.length === 0) {
      return [
        {
          status: 'OK',
          summary: `/etc/shadow 中 ${shadow.length} 个账户均未使用空口令`,
          details: { accounts: shadow.length },
        },
      ];
    }
    return empty.map(
      (name): ProbeResult => ({
        status: 'CRIT',
        target: name,
        summary: `账户 ${name} 的口令为空，任何人可无口令登录`,
        details: { file: '/etc/shadow', account: name },
      }),
    );
  },
};

export const uidZero: ProbeDescriptor = {
  id: 'security.accounts.uid0',
  category: 'security',
  title: '仅 root 账户的 UID 为 0',
  remediation:
    '删除或修改除 root 外 UID 为 0 的账户（usermod -u <新UID> <用户>），管理员通过 sudo 获得特权。',
  clause: 'GB/T 22239-2019 8.1.4.2 d)',
  crossRef: ['Lynis AUTH-9204', 'CIS 6.2.2'],
  options: Type.Object({}),
  async run({ host }) {
    const passwd = parsePasswd(await host.readFile('/etc/passwd'));
    const extra = passwd.filter((e) => e.uid === 0 && e.name !== 'root');
    if (extra.length === 0) return [{ status: 'OK', summary: '只有 root 账户的 UID 为 0' }];
    return extra.map((e) => ({
      status: 'CRIT' as const,
      target: e.name,
      summary: `账户 ${e.name} 的 UID 为 0，拥有与 root 相同的特权`,
      details: { file: '/etc/passwd', account: e.name, shell: e.shell },
    }));
  },
};

export const duplicateUid: ProbeDescriptor = {
  id: 'security.accounts.duplicate_uid',
  category: 'security',
  title: '账户 UID 唯一',
  remediation: '为共用 UID 的账户分配不同的 UID（usermod -u），保证每个账户身份唯一、操作可追溯。',
  clause: 'GB/T 22239-2019 8.1.4.1 a)',
  crossRef: ['Lynis AUTH-9208', 'CIS 6.2.16'],
  options: Type.Object({}),
  async run({ host }) {
    const passwd = parsePasswd(await host.readFile('/etc/passwd'));
    const byUid = new Map<number, string[]>();
    for (const e of passwd) byUid.set(e.uid, [...(byUid.get(e.uid) ?? []), e.name]);
    const dup = [...byUid].filter(([, names]) => names.length > 1);
    if (dup.length === 0) return [{ status: 'OK', summary: `${passwd.length} 个账户的 UID 各不相同` }];
    return dup.map(([uid, names]) => ({
      status: 'WARN' as const,
      target: `uid ${uid}`,
      summary: `UID ${uid} 被多个账户共用：${names.join('、')}`,
      details: { uid, accounts: names },
    }));
  },
};
