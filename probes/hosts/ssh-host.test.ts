/**
 * SshHost against a real sshd on loopback, started here with its own host key, authorized key
 * and configuration (no system sshd involved).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityProbes } from '../index.js';
import { runProbe } from '../types.js';
import { LocalHost } from './local-host.js';
import { HostKeyError, SshHost, shellCommand } from './ssh-host.js';
import { keygen, startSshd, type TestSshd } from './test-sshd.js';

let sshd: TestSshd;
let host: SshHost;
let options: Parameters<typeof SshHost.connect>[0];
let dir: string;
let port: number;

beforeAll(async () => {
  sshd = await startSshd();
  dir = sshd.dir;
  port = sshd.port;
  keygen(join(dir, 'other_key'));
  options = {
    host: '127.0.0.1',
    port,
    username: sshd.username,
    privateKeyPath: sshd.clientKey,
    knownHostsPath: sshd.knownHosts,
  };
  host = await SshHost.connect(options);
}, 30_000);

afterAll(() => {
  host?.dispose();
  sshd?.stop();
});

describe('SshHost', () => {
  it('authenticates with a key and tells exit code, signal and timeout apart', async () => {
    const t = { timeout: 5000 };
    expect(await host.exec('true', [], t)).toMatchObject({ code: 0, signal: null, timedOut: false });
    expect(await host.exec('false', [], t)).toMatchObject({ code: 1, signal: null, timedOut: false });
    expect(await host.exec('sh', ['-c', 'exit 3'], t)).toMatchObject({
      code: 3,
      signal: null,
      timedOut: false,
    });
    expect(await host.exec('sh', ['-c', 'kill -TERM $$'], t)).toMatchObject({
      code: null,
      signal: 'SIGTERM',
      timedOut: false,
    });
    const started = Date.now();
    expect(await host.exec('sleep', ['30'], { timeout: 500 })).toMatchObject({
      code: null,
      signal: null,
      timedOut: true,
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('passes arguments through without the shell reading them', async () => {
    const nasty = `a b'c; $(touch ${dir}/pwned) \`id\` "q" \\ *`;
    const r = await host.exec('printf', ['%s|', nasty, ''], { timeout: 5000 });
    expect(r.stdout).toBe(`${nasty}||`);
    expect(shellCommand('echo', ["it's"])).toBe(`echo 'it'\\''s'`);
    expect(() => readFileSync(join(dir, 'pwned'))).toThrow();
  });

  it('reads files, stats and lists directories; a missing file is ENOENT', async () => {
    expect(await host.readFile(join(dir, 'known_hosts'))).toContain(`[127.0.0.1]:${port}`);
    const s = await host.stat(dir);
    expect(s.isDirectory).toBe(true);
    expect(await host.listDir(dir)).toContain('sshd_config');
    await expect(host.readFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an unknown host key', async () => {
    writeFileSync(join(dir, 'known_other'), `[127.0.0.1]:${port + 1} ssh-ed25519 AAAA\n`);
    const error = await SshHost.connect({ ...options, knownHostsPath: join(dir, 'known_other') }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error).toMatchObject({ verdict: 'unknown' });
    expect(error.message).toMatch(/主机密钥未登记.*unknown host key SHA256:/);
  });

  it('refuses a changed host key', async () => {
    const other = readFileSync(join(dir, 'other_key.pub'), 'utf8').trim().split(' ');
    writeFileSync(join(dir, 'known_changed'), `[127.0.0.1]:${port} ${other[0]} ${other[1]}\n`);
    const error = await SshHost.connect({ ...options, knownHostsPath: join(dir, 'known_changed') }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ verdict: 'changed' });
    expect(error.message).toMatch(/不一致.*host key changed/);
  });

  it('runs the security baseline over SSH with the same verdicts as locally', {
    timeout: 60_000,
  }, async () => {
    const local = new LocalHost();
    const ctx = { signal: new AbortController().signal, now: Date.now };
    for (const [id, probe] of Object.entries(securityProbes)) {
      // apt-get -s runs through the same exec path tested above; it takes seconds, so not twice.
      if (id === 'security.updates.pending') continue;

      const overSsh = await runProbe(probe, { ...ctx, host, options: {} });

      expect(overSsh.length, id).toBeGreaterThan(0);
      for (const r of overSsh) expect(r.summary, id).toMatch(/\S{4,}/);
      // Processes and sockets change between the two runs (sshd forks per session): compare files only.
      if (
        id.startsWith('security.accounts') ||
        id.startsWith('security.password') ||
        id === 'security.umask' ||
        id === 'security.ssh.config'
      ) {
        const here = await runProbe(probe, { ...ctx, host: local, options: {} });
        expect(
          overSsh.map((r) => [r.target, r.status]),
          id,
        ).toEqual(here.map((r) => [r.target, r.status]));
      }
    }
  });
});
