/**
 * A host reached over SSH from the collector (node-ssh on ssh2). Key authentication only; the
 * server's host key must be listed in a known_hosts file, so an unknown or changed key refuses
 * the connection instead of trusting it on first use. Every argument is single-quoted before it
 * reaches the remote shell; a command's end is told apart as exit code, signal or timeout.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import { type ExecOptions, type ExecResult, type Host, HostFileError, type HostStat } from '../host.js';
import { type HostKeyVerdict, knownHostsName, verifyHostKey } from './known-hosts.js';

export interface SshHostOptions {
  host: string;
  /** @defaultValue 22 */
  port?: number;
  username: string;
  /** Path of the private key file. */
  privateKeyPath: string;
  passphrase?: string;
  /** The known_hosts file the server's key must be listed in. */
  knownHostsPath: string;
  /** @defaultValue 10000 */
  connectTimeoutMs?: number;
}

/** The minimal ssh2 channel surface used here (ssh2 ships no types of its own). */
interface RemoteChannel {
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
  on(event: 'close', listener: () => void): this;
  stderr: { on(event: 'data', listener: (chunk: Buffer) => void): void };
  signal(name: string): void;
  close(): void;
}
interface RemoteClient {
  exec(command: string, callback: (error: Error | undefined, channel: RemoteChannel) => void): void;
}

export class HostKeyError extends Error {
  constructor(
    readonly verdict: Exclude<HostKeyVerdict, 'known'>,
    readonly host: string,
    readonly fingerprint: string,
    knownHostsPath: string,
  ) {
    super(
      verdict === 'unknown'
        ? `主机 ${host} 的主机密钥未登记在 ${knownHostsPath} 中，拒绝连接 (unknown host key ${fingerprint}: add it to ${knownHostsPath} after verifying it out of band)`
        : `主机 ${host} 的主机密钥与 ${knownHostsPath} 中登记的不一致，可能遭到中间人攻击，拒绝连接 (host key changed: offered ${fingerprint}; if the host was reinstalled, verify and replace its entry)`,
    );
  }
}

/** Single-quotes an argument for a POSIX shell: nothing inside is expanded. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./=:@%+,-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellQuote).join(' ');
}

function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function normaliseSignal(signal: string | undefined): string | null {
  if (!signal) return null;
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}

export class SshHost implements Host {
  readonly name: string;
  private readonly ssh = new NodeSSH();

  private constructor(options: SshHostOptions) {
    this.name = `ssh://${options.username}@${options.host}:${options.port ?? 22}`;
  }

  /** Connects and verifies the host key; rejects with HostKeyError on an unknown or changed key. */
  static async connect(options: SshHostOptions): Promise<SshHost> {
    const host = new SshHost(options);
    const port = options.port ?? 22;
    const knownHosts = await readFile(options.knownHostsPath, 'utf8').catch((cause: Error) => {
      throw new Error(`cannot read known_hosts ${options.knownHostsPath}: ${cause.message}`, { cause });
    });
    let refused: HostKeyError | undefined;
    const name = knownHostsName(options.host, port);
    try {
      await host.ssh.connect({
        host: options.host,
        port,
        username: options.username,
        privateKeyPath: options.privateKeyPath,
        ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
        readyTimeout: options.connectTimeoutMs ?? 10_000,
        tryKeyboard: false,
        hostVerifier: (key: Buffer) => {
          const verdict = verifyHostKey(knownHosts, name, key);
          if (verdict === 'known') return true;
          refused = new HostKeyError(verdict, name, fingerprint(key), options.knownHostsPath);
          return false;
        },
      } as Parameters<NodeSSH['connect']>[0]);
    } catch (cause) {
      host.ssh.dispose();
      if (refused) throw refused;
      throw new Error(`SSH 连接 ${host.name} 失败 (cannot connect): ${(cause as Error).message}`, { cause });
    }
    return host;
  }

  dispose(): void {
    this.ssh.dispose();
  }

  exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
    const client = this.ssh.connection as unknown as RemoteClient | null;
    if (!client)
      return Promise.resolve({
        code: null,
        signal: null,
        timedOut: false,
        stdout: '',
        stderr: '',
        error: 'not connected',
      });
    const line = shellCommand(command, args);
    return new Promise((done) => {
      client.exec(line, (error, channel) => {
        if (error) {
          done({ code: null, signal: null, timedOut: false, stdout: '', stderr: '', error: error.message });
          return;
        }
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let code: number | null = null;
        let signal: string | null = null;
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          // OpenSSH honours the signal request (7.9+); closing the channel also ends our wait.
          channel.signal('KILL');
          channel.close();
        }, options.timeout);
        channel.on('data', (chunk) => out.push(chunk));
        channel.stderr.on('data', (chunk) => err.push(chunk));
        channel.on('exit', (c, s) => {
          if (typeof c === 'number') code = c;
          else signal = normaliseSignal(s);
        });
        channel.on('close', () => {
          clearTimeout(timer);
          done({
            code: timedOut ? null : code,
            signal: timedOut ? null : signal,
            timedOut,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
        });
      });
    });
  }

  private async run(command: string, args: string[], path: string): Promise<string> {
    const r = await this.exec(command, args, { timeout: 30_000 });
    if (r.code === 0) return r.stdout;
    const message = `${this.name} ${path}: ${r.stderr.trim() || (r.timedOut ? 'timed out' : `exit ${r.code}`)}`;
    if (/No such file|cannot access|not found/i.test(r.stderr)) throw new HostFileError(message, 'ENOENT');
    if (/Permission denied/i.test(r.stderr)) throw new HostFileError(message, 'EACCES');
    throw new HostFileError(message, 'EIO');
  }

  readFile(path: string): Promise<string> {
    return this.run('cat', ['--', path], path);
  }

  async stat(path: string): Promise<HostStat> {
    const text = await this.run('stat', ['-L', '-c', '%f %u %g %s %Y %F', '--', path], path);
    const [mode, uid, gid, size, mtime, ...type] = text.trim().split(' ');
    const kind = type.join(' ');
    return {
      mode: Number.parseInt(mode ?? '0', 16),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      mtimeMs: Number(mtime) * 1000,
      isFile: kind.startsWith('regular'),
      isDirectory: kind === 'directory',
    };
  }

  async listDir(path: string): Promise<string[]> {
    const text = await this.run('find', [path, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\0'], path);
    return text.split('\0').filter(Boolean).sort();
  }
}
