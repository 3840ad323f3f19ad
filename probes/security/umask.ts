/** Default umask 027 or stricter (GB/T 22239-2019 8.1.4.2 d): new files not readable by others. */
import { Type } from '@sinclair/typebox';
import { listOptional, readOptional } from '../host.js';
import type { ProbeDescriptor } from '../types.js';
import { parseKeyValues, parseUmask } from './parse.js';

const UMASK_RE = /^\s*umask\s+(\d{3,4})\s*$/gm;

export const defaultUmask: ProbeDescriptor<{ required: string }> = {
  id: 'security.umask',
  category: 'security',
  title: '默认 umask 为 027 或更严格',
  remediation:
    '在 /etc/login.defs 中设置 UMASK 027，并在 /etc/profile（或 /etc/profile.d/umask.sh）中写入 umask 027。',
  clause: 'GB/T 22239-2019 8.1.4.2 d)',
  crossRef: ['Lynis AUTH-9328', 'CIS 5.5.5'],
  options: Type.Object({ required: Type.String({ pattern: '^0?[0-7]{3}$', default: '027' }) }),
  async run({ host, options }) {
    const required = parseUmask(options.required ?? '027')!;
    const found: { file: string; umask: string }[] = [];
    const defs = parseKeyValues((await readOptional(host, '/etc/login.defs')) ?? '').get('UMASK');
    if (defs) found.push({ file: '/etc/login.defs', umask: defs });
    const files = ['/etc/profile', '/etc/bash.bashrc', '/etc/bashrc'];
    for (const f of await listOptional(host, '/etc/profile.d'))
      if (f.endsWith('.sh')) files.push(`/etc/profile.d/${f}`);
    for (const file of files) {
      const text = await readOptional(host, file);
      if (text === undefined) continue;
      for (const m of text.matchAll(UMASK_RE)) found.push({ file, umask: m[1]! });
    }
    const loose = found.filter((f) => {
      const v = parseUmask(f.umask);
      return v === undefined || (v & required) !== required;
    });
    const want = options.required ?? '027';
    if (found.length === 0)
      return [
        {
          status: 'WARN',
          summary: `未设置默认 umask（应为 ${want}）`,
          details: { searched: ['/etc/login.defs', ...files] },
        },
      ];
    if (loose.length > 0) {
      return [
        {
          status: 'WARN',
          summary: `默认 umask 过松：${loose.map((f) => `${f.file} ${f.umask}`).join('，')}（应为 ${want} 或更严格）`,
          details: { found },
        },
      ];
    }
    return [{ status: 'OK', summary: `默认 umask 均为 ${want} 或更严格`, details: { found } }];
  },
};
