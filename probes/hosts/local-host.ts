/**
 * The machine the process runs on, or a fixture tree standing in for one: every absolute path a
 * probe asks for is read under `root`. Programs run with execFile, never through a shell.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ExecOptions, type ExecResult, type Host, HostFileError, type HostStat } from '../host.js';

export interface LocalHostOptions {
  /** The root file system as the probe sees it. @defaultValue "/" */
  root?: string;
  /** PATH for the programs the probes run; tests point it at a fixture bin directory. */
  path?: string;
  name?: string;
}

function fileError(path: string, cause: unknown): HostFileError {
  const code = (cause as { code?: string }).code;
  const mapped =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'ENOENT'
      : code === 'EACCES' || code === 'EPERM'
        ? 'EACCES'
        : 'EIO';
  return new HostFileError(`${path}: ${(cause as Error).message}`, mapped, { cause });
}

export class LocalHost implements Host {
  readonly name: string;
  private readonly root: string;
  private readonly path: string | undefined;

  constructor(options: LocalHostOptions = {}) {
    this.root = resolve(options.root ?? '/');
    this.path = options.path;
    this.name = options.name ?? (this.root === '/' ? 'local' : `local:${this.root}`);
  }

  private at(path: string): string {
    return this.root === '/' ? path : join(this.root, path);
  }

  exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
    return new Promise((done) => {
      const env =
        this.path === undefined
          ? { ...process.env, LC_ALL: 'C' }
          : { ...process.env, LC_ALL: 'C', PATH: this.path };
      execFile(
        command,
        [...args],
        {
          timeout: options.timeout,
          killSignal: 'SIGKILL',
          maxBuffer: 16 * 1024 * 1024,
          env,
          encoding: 'utf8',
        },
        (error, stdout, stderr) => {
          if (!error) {
            done({ code: 0, signal: null, timedOut: false, stdout, stderr });
            return;
          }
          const e = error as NodeJS.ErrnoException & {
            killed?: boolean;
            signal?: string | null;
            code?: unknown;
          };
          if (typeof e.code === 'string') {
            done({
              code: null,
              signal: null,
              timedOut: false,
              stdout,
              stderr,
              error: `${command}: ${e.code}`,
            });
            return;
          }
          const timedOut = e.killed === true && e.signal === 'SIGKILL';
          done({
            code: typeof e.code === 'number' ? e.code : null,
            signal: timedOut ? null : (e.signal ?? null),
            timedOut,
            stdout,
            stderr,
          });
        },
      );
    });
  }

  async readFile(path: string): Promise<string> {
    try {
      return await readFile(this.at(path), 'utf8');
    } catch (cause) {
      throw fileError(path, cause);
    }
  }

  async stat(path: string): Promise<HostStat> {
    try {
      const s = await stat(this.at(path));
      return {
        mode: s.mode,
        uid: s.uid,
        gid: s.gid,
        size: s.size,
        mtimeMs: s.mtimeMs,
        isFile: s.isFile(),
        isDirectory: s.isDirectory(),
      };
    } catch (cause) {
      throw fileError(path, cause);
    }
  }

  async listDir(path: string): Promise<string[]> {
    try {
      return (await readdir(this.at(path))).sort();
    } catch (cause) {
      throw fileError(path, cause);
    }
  }
}
