/**
 * Pending security updates (GB/T 22239-2019 8.1.4.4 e: known vulnerabilities found and fixed in
 * time), asked of whichever package manager the host has. Only a simulation: nothing is
 * installed, and the package lists are not refreshed (that is the host's own timer's job).
 */
import { Type } from '@sinclair/typebox';
import { describeExit, type ExecResult, type Host, isMissing } from '../host.js';
import type { ProbeDescriptor } from '../types.js';

async function has(host: Host, path: string): Promise<boolean> {
  try {
    await host.stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** `Inst pkg [old] (new Origin:release/suite-security [arch])` lines of `apt-get -s upgrade`. */
export function parseAptSimulation(text: string): { all: string[]; security: string[] } {
  const all: string[] = [];
  const security: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^Inst (\S+)/.exec(line);
    if (!m) continue;
    all.push(m[1]!);
    if (/[-/]security|Debian-Security/i.test(line)) security.push(m[1]!);
  }
  return { all, security };
}

/** `ADVISORY  severity/Sec.  package` lines of `dnf updateinfo list --security`. */
export function parseUpdateinfo(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && /Sec\.|security/i.test(f[1]!))
    .map((f) => f[2]!);
}

export const securityUpdates: ProbeDescriptor<{ timeoutSeconds: number }> = {
  id: 'security.updates.pending',
  category: 'security',
  title: '无待安装的安全更新',
  remediation:
    '在变更窗口内安装安全更新（apt-get upgrade / dnf upgrade --security），必要时重启服务或主机，并记录变更。',
  clause: 'GB/T 22239-2019 8.1.4.4 e)',
  crossRef: ['Lynis PKGS-7392', 'CIS 1.9'],
  options: Type.Object({ timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 120 }) }),
  async run({ host, options }) {
    const timeout = (options.timeoutSeconds ?? 120) * 1000;
    let manager: string;
    let r: ExecResult;
    if (await has(host, '/usr/bin/apt-get')) {
      manager = 'apt-get';
      r = await host.exec('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'upgrade'], { timeout });
    } else if ((await has(host, '/usr/bin/dnf')) || (await has(host, '/usr/bin/yum'))) {
      manager = (await has(host, '/usr/bin/dnf')) ? 'dnf' : 'yum';
      r = await host.exec(manager, ['-q', '-C', 'updateinfo', 'list', '--security'], { timeout });
    } else {
      return [{ status: 'UNKNOWN', summary: '未找到 apt-get、dnf 或 yum，无法检查安全更新' }];
    }
    if (r.code !== 0) {
      return [
        {
          status: 'UNKNOWN',
          summary: `${manager} 检查安全更新失败（${describeExit(r)}）`,
          details: {
            manager,
            stderr: r.stderr.slice(-2000),
            code: r.code,
            signal: r.signal,
            timedOut: r.timedOut,
          },
        },
      ];
    }
    const security =
      manager === 'apt-get' ? parseAptSimulation(r.stdout).security : parseUpdateinfo(r.stdout);
    const total = manager === 'apt-get' ? parseAptSimulation(r.stdout).all.length : security.length;
    if (security.length === 0) {
      return [
        {
          status: 'OK',
          summary: `没有待安装的安全更新（${manager}，可升级软件包 ${total} 个）`,
          details: { manager, upgradable: total },
        },
      ];
    }
    return [
      {
        status: 'WARN',
        summary: `有 ${security.length} 个软件包的安全更新待安装：${security.slice(0, 10).join('、')}${security.length > 10 ? ' 等' : ''}`,
        details: { manager, packages: security, upgradable: total },
      },
    ];
  },
};
