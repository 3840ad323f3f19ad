import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../hosts/local-host.js';
import { securityProbes } from '../index.js';
import { type AnyProbe, type ProbeResult, runProbe } from '../types.js';
import { logrotateDays } from './audit.js';
import { parseProcNet, parseSshdConfig } from './parse.js';
import { parseAptSimulation } from './updates.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function fixtureHost(tree: 'good' | 'bad'): LocalHost {
  const root = join(FIXTURES, tree);
  return new LocalHost({ root, path: join(root, 'usr/bin'), name: tree });
}

function probe(id: string): AnyProbe {
  const found = securityProbes[id];
  if (!found) throw new Error(`no probe ${id}`);
  return found;
}

async function run(
  target: AnyProbe,
  host: LocalHost,
  options: Record<string, unknown> = {},
): Promise<ProbeResult[]> {
  return runProbe(target, { host, options, signal: new AbortController().signal, now: Date.now });
}

beforeAll(() => {
  // git keeps only the executable bit; the audit log's mode is part of the fixture.
  chmodSync(join(FIXTURES, 'good/var/log/audit/audit.log'), 0o600);
  chmodSync(join(FIXTURES, 'bad/var/log/audit/audit.log'), 0o644);
});

describe('security baseline on fixture trees', () => {
  for (const [id, p] of Object.entries(securityProbes)) {
    it(`${id}: every result OK on the good tree`, async () => {
      const results = await run(p, fixtureHost('good'));
      expect(results.map((r) => [r.target, r.status, r.summary])).toEqual(
        results.map((r) => [r.target, 'OK', r.summary]),
      );
    });
    it(`${id}: a finding on the bad tree`, async () => {
      const results = await run(p, fixtureHost('bad'));
      expect(results.some((r) => r.status === 'WARN' || r.status === 'CRIT')).toBe(true);
      for (const r of results) expect(r.summary.length).toBeGreaterThan(4);
    });
  }

  it('names what it found on the bad tree', async () => {
    const bad = fixtureHost('bad');
    const targets = async (id: string) =>
      (await run(probe(id), bad)).filter((r) => r.status !== 'OK').map((r) => `${r.status} ${r.target}`);
    expect(await targets('security.accounts.empty_password')).toEqual(['CRIT guest']);
    expect(await targets('security.accounts.uid0')).toEqual(['CRIT toor']);
    expect(await targets('security.accounts.duplicate_uid')).toEqual(['WARN uid 0', 'WARN uid 1000']);
    expect(await targets('security.ssh.config')).toEqual([
      'CRIT PermitRootLogin',
      'WARN PasswordAuthentication',
      'WARN ClientAlive',
      'CRIT Protocol',
    ]);
    expect(await targets('security.network.listening_ports')).toEqual([
      'CRIT tcp/21',
      'CRIT tcp/23',
      'CRIT tcp/6379',
      'WARN tcp/8080',
    ]);
    expect(await targets('security.services.insecure_remote')).toEqual(['CRIT telnet', 'CRIT ftp']);
    const updates = await run(probe('security.updates.pending'), bad);
    expect(updates[0]!.details?.packages).toEqual(['libssl3', 'openssh-server']);
  });

  it('honours options: an allowed port is not reported', async () => {
    const results = await run(probe('security.network.listening_ports'), fixtureHost('bad'), {
      allowedPorts: [22, 8080],
    });
    expect(results.map((r) => r.target)).not.toContain('tcp/8080');
  });
});

describe('on this machine', () => {
  it('every baseline probe answers with a verdict and a reason', { timeout: 60_000 }, async () => {
    const host = new LocalHost();
    for (const [id, p] of Object.entries(securityProbes)) {
      const results = await run(p, host, id === 'security.updates.pending' ? { timeoutSeconds: 45 } : {});
      expect(results.length, id).toBeGreaterThan(0);
      for (const r of results) {
        expect(['OK', 'WARN', 'CRIT', 'UNKNOWN'], id).toContain(r.status);
        expect(r.summary, id).toMatch(/\S{4,}/);
      }
    }
  });
});

describe('runProbe', () => {
  it('turns a throw into UNKNOWN with the reason', async () => {
    const broken: AnyProbe = {
      ...probe('security.umask'),
      run: async () => {
        throw new Error('boom', { cause: new Error('EACCES') });
      },
    };
    const [r] = await run(broken, fixtureHost('good'));
    expect(r).toMatchObject({ status: 'UNKNOWN', summary: '检查项 security.umask 执行失败：boom: EACCES' });
  });
  it('turns an empty answer into UNKNOWN', async () => {
    const broken: AnyProbe = { ...probe('security.umask'), run: async () => [] };
    expect((await run(broken, fixtureHost('good')))[0]!.status).toBe('UNKNOWN');
  });
});

describe('parsers', () => {
  it('reads IPv4 and IPv6 listeners from /proc/net', () => {
    const v4 = parseProcNet(
      'sl local rem st\n 0: 0100007F:0CEA 00000000:0000 0A x\n 1: 0100007F:0CEB 0100007F:0001 01 x',
      'tcp',
      false,
    );
    expect(v4).toEqual([{ protocol: 'tcp', address: '127.0.0.1', port: 3306 }]);
    const v6 = parseProcNet(
      'sl\n 0: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A x',
      'tcp',
      true,
    );
    expect(v6).toEqual([{ protocol: 'tcp', address: '::ffff:127.0.0.1', port: 80 }]);
  });
  it('sshd_config: the first value wins, Match blocks left out', () => {
    const v = parseSshdConfig(
      'PermitRootLogin no\nPermitRootLogin yes\nMatch User x\n  PasswordAuthentication yes\n',
    );
    expect([...v]).toEqual([['permitrootlogin', 'no']]);
  });
  it('logrotate retention in days', () => {
    expect(logrotateDays('weekly\nrotate 4\n')).toBe(35);
    expect(logrotateDays('monthly\nrotate 6\n')).toBe(210);
    expect(logrotateDays('daily\n')).toBeUndefined();
  });
  it('apt simulation: security suites only', () => {
    const r = parseAptSimulation(
      'Inst a [1] (2 Debian-Security:12/stable-security [amd64])\nInst b [1] (2 Debian:12/stable [amd64])\n',
    );
    expect(r).toEqual({ all: ['a', 'b'], security: ['a'] });
  });
});
