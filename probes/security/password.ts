/** Password aging and quality (GB/T 22239-2019 8.1.4.1 a): complex and changed regularly. */
import { Type } from '@sinclair/typebox';
import { listOptional, readOptional } from '../host.js';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { pamArg, parseKeyValues, parsePam, parseShadow } from './parse.js';

export const passwordMaxDays: ProbeDescriptor<{ maxDays: number }> = {
  id: 'security.password.max_days',
  category: 'security',
  title: '口令最长使用期限不超过 90 天',
  remediation: '在 /etc/login.defs 中设置 PASS_MAX_DAYS 90，并对已有账户执行 chage -M 90 <用户>。',
  clause: 'GB/T 22239-2019 8.1.4.1 a)',
  crossRef: ['Lynis AUTH-9286', 'CIS 5.5.1.1'],
  options: Type.Object({ maxDays: Type.Integer({ minimum: 1, default: 90 }) }),
  async run({ host, options }) {
    const limit = options.maxDays ?? 90;
    const defs = parseKeyValues((await readOptional(host, '/etc/login.defs')) ?? '');
    const value = Number(defs.get('PASS_MAX_DAYS'));
    const results: ProbeResult[] = [];
    if (!defs.has('PASS_MAX_DAYS') || !Number.isFinite(value) || value > limit) {
      results.push({
        status: 'WARN',
        target: '/etc/login.defs',
        summary: defs.has('PASS_MAX_DAYS')
          ? `PASS_MAX_DAYS 为 ${defs.get('PASS_MAX_DAYS')}，超过 ${limit} 天`
          : `/etc/login.defs 未设置 PASS_MAX_DAYS（上限应为 ${limit} 天）`,
        details: { PASS_MAX_DAYS: defs.get('PASS_MAX_DAYS') ?? null, limit },
      });
    }
    const shadow = (await readOptional(host, '/etc/shadow').catch(() => undefined)) ?? '';
    const stale = parseShadow(shadow).filter(
      (e) =>
        e.hash !== '' &&
        !e.hash.startsWith('!') &&
        !e.hash.startsWith('*') &&
        (e.maxDays === undefined || e.maxDays > limit),
    );
    for (const e of stale) {
      results.push({
        status: 'WARN',
        target: e.name,
        summary: `账户 ${e.name} 的口令最长使用期限为 ${e.maxDays ?? '不限'}，超过 ${limit} 天`,
        details: { account: e.name, maxDays: e.maxDays ?? null, limit },
      });
    }
    if (results.length === 0) {
      results.push({
        status: 'OK',
        summary: `PASS_MAX_DAYS 为 ${value}，有口令的账户期限均不超过 ${limit} 天`,
        details: { PASS_MAX_DAYS: value },
      });
    }
    return results;
  },
};

const PAM_FILES = ['/etc/pam.d/common-password', '/etc/pam.d/system-auth', '/etc/pam.d/password-auth'];

export const passwordQuality: ProbeDescriptor<{ minLength: number; minClasses: number }> = {
  id: 'security.password.quality',
  category: 'security',
  title: '口令复杂度：长度不少于 8 位且包含多类字符',
  remediation:
    '在 /etc/security/pwquality.conf 中设置 minlen = 8（或更长）和 minclass = 3，并确认 PAM 口令栈启用 pam_pwquality.so。',
  clause: 'GB/T 22239-2019 8.1.4.1 a)',
  crossRef: ['Lynis AUTH-9262', 'CIS 5.4.1'],
  options: Type.Object({
    minLength: Type.Integer({ minimum: 1, default: 8 }),
    minClasses: Type.Integer({ minimum: 1, maximum: 4, default: 3 }),
  }),
  async run({ host, options }) {
    const wantLen = options.minLength ?? 8;
    const wantClasses = options.minClasses ?? 3;
    const settings = new Map<string, string>();
    const sources: string[] = [];
    const confFiles = ['/etc/security/pwquality.conf'];
    for (const f of await listOptional(host, '/etc/security/pwquality.conf.d')) {
      if (f.endsWith('.conf')) confFiles.push(`/etc/security/pwquality.conf.d/${f}`);
    }
    for (const file of confFiles) {
      const text = await readOptional(host, file);
      if (text === undefined) continue;
      sources.push(file);
      for (const [k, v] of parseKeyValues(text)) settings.set(k, v);
    }
    let pamEnabled = false;
    for (const file of PAM_FILES) {
      const text = await readOptional(host, file);
      if (text === undefined) continue;
      for (const line of parsePam(text)) {
        if (line.type !== 'password' || !/pam_(pw|cracklib)quality\.so|pam_cracklib\.so/.test(line.module))
          continue;
        pamEnabled = true;
        sources.push(file);
        for (const key of ['minlen', 'minclass', 'dcredit', 'ucredit', 'lcredit', 'ocredit']) {
          const v = pamArg(line, key);
          if (v !== undefined && v !== '') settings.set(key, v);
        }
      }
    }
    const minlen = Number(settings.get('minlen') ?? 0);
    // Negative credits make a class mandatory; count them as classes too.
    const credits = ['dcredit', 'ucredit', 'lcredit', 'ocredit'].filter(
      (k) => Number(settings.get(k) ?? 0) < 0,
    ).length;
    const classes = Math.max(Number(settings.get('minclass') ?? 0), credits);
    const problems: string[] = [];
    if (!pamEnabled) problems.push('PAM 口令栈未启用 pam_pwquality');
    if (minlen < wantLen)
      problems.push(`minlen 为 ${settings.get('minlen') ?? '未设置'}（应不少于 ${wantLen}）`);
    if (classes < wantClasses) problems.push(`字符类别要求为 ${classes}（应不少于 ${wantClasses}）`);
    const details = { minlen, classes, pamEnabled, sources };
    if (problems.length === 0) {
      return [
        { status: 'OK', summary: `口令复杂度满足要求：最短 ${minlen} 位，至少 ${classes} 类字符`, details },
      ];
    }
    return [{ status: 'WARN', summary: `口令复杂度不足：${problems.join('；')}`, details }];
  },
};
