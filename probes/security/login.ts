/**
 * Login-failure handling and idle sessions (GB/T 22239-2019 8.1.4.1 b): lock an account after
 * repeated failures, end idle shells.
 */
import { Type } from '@sinclair/typebox';
import { listOptional, readOptional } from '../host.js';
import type { ProbeDescriptor } from '../types.js';
import { pamArg, parseKeyValues, parsePam } from './parse.js';

const AUTH_FILES = [
  '/etc/pam.d/common-auth',
  '/etc/pam.d/system-auth',
  '/etc/pam.d/password-auth',
  '/etc/pam.d/sshd',
  '/etc/pam.d/login',
];

export const loginLockout: ProbeDescriptor<{ maxDeny: number; minUnlockSeconds: number }> = {
  id: 'security.login.lockout',
  category: 'security',
  title: '登录失败处理：连续失败后锁定账户',
  remediation:
    '在 PAM 认证栈中启用 pam_faillock.so（或旧系统的 pam_tally2.so），设置 deny=5 unlock_time=600 或更严格；pam_faillock 也可在 /etc/security/faillock.conf 中配置。',
  clause: 'GB/T 22239-2019 8.1.4.1 b)',
  crossRef: ['Lynis AUTH-9408', 'CIS 5.4.2'],
  options: Type.Object({
    maxDeny: Type.Integer({ minimum: 1, default: 5 }),
    minUnlockSeconds: Type.Integer({ minimum: 0, default: 600 }),
  }),
  async run({ host, options }) {
    const maxDeny = options.maxDeny ?? 5;
    const minUnlock = options.minUnlockSeconds ?? 600;
    const faillockConf = parseKeyValues((await readOptional(host, '/etc/security/faillock.conf')) ?? '');
    let found: { file: string; module: string; deny?: string; unlock?: string } | undefined;
    for (const file of AUTH_FILES) {
      const text = await readOptional(host, file);
      if (text === undefined) continue;
      const line = parsePam(text).find(
        (l) => l.type === 'auth' && /pam_(faillock|tally2?)\.so/.test(l.module),
      );
      if (!line) continue;
      const deny = pamArg(line, 'deny') ?? faillockConf.get('deny');
      const unlock = pamArg(line, 'unlock_time') ?? faillockConf.get('unlock_time');
      found = { file, module: line.module, ...(deny ? { deny } : {}), ...(unlock ? { unlock } : {}) };
      break;
    }
    if (!found) {
      return [
        {
          status: 'WARN',
          summary: '未在 PAM 认证栈中找到 pam_faillock 或 pam_tally2，登录失败不会锁定账户',
          details: { files: AUTH_FILES },
        },
      ];
    }
    // pam_faillock defaults: deny=3, unlock_time=600 (faillock.conf(5)).
    const deny = Number(found.deny ?? (found.module === 'pam_faillock.so' ? 3 : 0));
    const unlock = Number(found.unlock ?? (found.module === 'pam_faillock.so' ? 600 : 0));
    const problems: string[] = [];
    if (!(deny >= 1 && deny <= maxDeny)) problems.push(`deny=${found.deny ?? '未设置'}（应为 1–${maxDeny}）`);
    if (unlock !== 0 && unlock < minUnlock)
      problems.push(`unlock_time=${unlock}（应不少于 ${minUnlock} 秒）`);
    const details = { ...found, deny, unlockTime: unlock };
    if (problems.length > 0)
      return [{ status: 'WARN', summary: `登录失败锁定设置过松：${problems.join('；')}`, details }];
    return [
      {
        status: 'OK',
        summary: `${found.module} 已启用：连续失败 ${deny} 次锁定，${unlock === 0 ? '需管理员解锁' : `${unlock} 秒后解锁`}`,
        details,
      },
    ];
  },
};

const TMOUT_RE = /^\s*(?:export\s+|readonly\s+|declare\s+-[a-zA-Z]+\s+)*TMOUT=(\d+)/m;

export const shellTimeout: ProbeDescriptor<{ maxSeconds: number }> = {
  id: 'security.login.tmout',
  category: 'security',
  title: '登录会话超时自动退出（TMOUT）',
  remediation: '在 /etc/profile.d/tmout.sh 中写入 "readonly TMOUT=600; export TMOUT"（不超过 900 秒）。',
  clause: 'GB/T 22239-2019 8.1.4.1 b)',
  crossRef: ['Lynis SHLL-6220', 'CIS 5.5.3'],
  options: Type.Object({ maxSeconds: Type.Integer({ minimum: 1, default: 900 }) }),
  async run({ host, options }) {
    const max = options.maxSeconds ?? 900;
    const files = ['/etc/profile', '/etc/bash.bashrc', '/etc/bashrc'];
    for (const f of await listOptional(host, '/etc/profile.d'))
      if (f.endsWith('.sh')) files.push(`/etc/profile.d/${f}`);
    const found: { file: string; seconds: number }[] = [];
    for (const file of files) {
      const text = await readOptional(host, file);
      const m = text === undefined ? null : TMOUT_RE.exec(text);
      if (m) found.push({ file, seconds: Number(m[1]) });
    }
    const good = found.filter((f) => f.seconds > 0 && f.seconds <= max);
    if (good.length > 0 && good.length === found.length) {
      return [
        {
          status: 'OK',
          summary: `TMOUT 设置为 ${good[0]!.seconds} 秒（${good[0]!.file}）`,
          details: { found },
        },
      ];
    }
    if (found.length === 0)
      return [
        { status: 'WARN', summary: '未设置 TMOUT，空闲会话不会自动退出', details: { searched: files } },
      ];
    return [
      {
        status: 'WARN',
        summary: `TMOUT 设置不当（应为 1–${max} 秒）：${found.map((f) => `${f.file}=${f.seconds}`).join('，')}`,
        details: { found },
      },
    ];
  },
};
