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
interface RemoteStats {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  isFile(): boolean;
  isDirectory(): boolean;
}
interface RemoteSftp {
  readFile(
    path: string,
    cb: (error: { code?: number; message?: string } | undefined, data: Buffer) => void,
  ): void;
  stat(
    path: string,
    cb: (error: { code?: number; message?: string } | undefined, stats: RemoteStats) => void,
  ): void;
  readdir(
    path: string,
    cb: (error: { code?: number; message?: string } | undefined, list: { filename: string }[]) => void,
  ): void;
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
  private sftp: Promise<RemoteSftp> | undefined;

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
    if (!client) {
      return Promise.resolve({
        code: null,
        signal: null,
        timedOut: false,
        stdout: '',
        stderr: '',
        error: 'not connected',
      });
    }
    // sshd refuses signal requests in some set-ups ("session signalling requires privilege
    // separation"), so the remote side gets its own deadline a little after ours: the command
    // cannot outlive a timed-out probe. timeout(1) re-raises a child's signal, so it still shows.
    const grace = Math.ceil(options.timeout / 1000) + 2;
    const line = shellCommand('timeout', ['-s', 'KILL', String(grace), command, ...args]);
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
        let settled = false;
        const finish = (timedOut: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          done({
            code: timedOut ? null : code,
            signal: timedOut ? null : signal,
            timedOut,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
        };
        const timer = setTimeout(() => {
          finish(true);
          try {
            channel.signal('KILL');
          } catch {
            // The channel may already be closing; the remote deadline ends the command anyway.
          }
          channel.close();
        }, options.timeout);
        channel.on('data', (chunk) => out.push(chunk));
        channel.stderr.on('data', (chunk) => err.push(chunk));
        channel.on('exit', (c, s) => {
          if (typeof c === 'number') code = c;
          else signal = normaliseSignal(s);
        });
        channel.on('close', () => finish(false));
      });
    });
  }

  private sftpSession(): Promise<RemoteSftp> {
    // One SFTP session serves every read: requests are pipelined on it, where one exec per file
    // would cost a session (and a process on the host) each.
    this.sftp ??= this.ssh.requestSFTP().then((s) => s as unknown as RemoteSftp);
    return this.sftp;
  }

  private fail(path: string, error: { code?: number; message?: string }): HostFileError {
    const message = `${this.name} ${path}: ${error.message ?? 'failed'}`;
    // SFTP status codes: 2 no such file, 3 permission denied.
    if (error.code === 2) return new HostFileError(message, 'ENOENT', { cause: error });
    if (error.code === 3) return new HostFileError(message, 'EACCES', { cause: error });
    return new HostFileError(message, 'EIO', { cause: error });
  }

  async readFile(path: string): Promise<string> {
    const sftp = await this.sftpSession();
    return new Promise((resolve, reject) => {
      sftp.readFile(path, (error, data) =>
        error ? reject(this.fail(path, error)) : resolve(data.toString('utf8')),
      );
    });
  }

  async stat(path: string): Promise<HostStat> {
    const sftp = await this.sftpSession();
    return new Promise((resolve, reject) => {
      sftp.stat(path, (error, s) => {
        if (error) {
          reject(this.fail(path, error));
          return;
        }
        resolve({
          mode: s.mode,
          uid: s.uid,
          gid: s.gid,
          size: s.size,
          mtimeMs: s.mtime * 1000,
          isFile: s.isFile(),
          isDirectory: s.isDirectory(),
        });
      });
    });
  }

  async listDir(path: string): Promise<string[]> {
    const sftp = await this.sftpSession();
    return new Promise((resolve, reject) => {
      sftp.readdir(path, (error, list) =>
        error
          ? reject(this.fail(path, error))
          : resolve(
              list
                .map((e) => e.filename)
                .filter((n) => n !== '.' && n !== '..')
                .sort(),
            ),
      );
    });
  }
}
