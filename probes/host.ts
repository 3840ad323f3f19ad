/**
 * The interface a probe uses to look at a machine. LocalHost (in the agent, or on a fixture tree
 * in tests) and SshHost (from the collector) implement it, so a probe is written once.
 *
 * Paths are absolute as seen on the host (`/etc/passwd`); a LocalHost with a root maps them into
 * that root.
 */

export interface ExecOptions {
  /** Milliseconds; the command is killed when it outlives this. */
  timeout: number;
}

export interface ExecResult {
  /** The exit code, or null when the command was ended by a signal or a timeout. */
  code: number | null;
  /** The signal that ended the command (`SIGKILL`), or null. */
  signal: string | null;
  /** The command outlived its timeout and was killed. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Set when the command could not be started at all (not found, not executable). */
  error?: string;
}

export interface HostStat {
  /** The permission bits and file type, as in stat(2) st_mode. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface Host {
  /** For messages: `local`, `ssh://ops@10.0.0.5:22`. */
  readonly name: string;
  /** Runs a program with arguments, never through a shell string the probe has to quote. */
  exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult>;
  /** Rejects with a HostFileError (code ENOENT when missing). */
  readFile(path: string): Promise<string>;
  stat(path: string): Promise<HostStat>;
  /** Entry names, without `.` and `..`. */
  listDir(path: string): Promise<string[]>;
}

export class HostFileError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOENT' | 'EACCES' | 'EIO',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isMissing(error: unknown): boolean {
  return error instanceof HostFileError
    ? error.code === 'ENOENT'
    : (error as { code?: string })?.code === 'ENOENT';
}

/** The file's text, or undefined when it does not exist; other errors (permission) reject. */
export async function readOptional(host: Host, path: string): Promise<string | undefined> {
  try {
    return await host.readFile(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** The directory's entries, or [] when it does not exist. */
export async function listOptional(host: Host, path: string): Promise<string[]> {
  try {
    return await host.listDir(path);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/** Describes how a command ended, in Chinese, for summaries. */
export function describeExit(r: ExecResult): string {
  if (r.error) return `无法执行：${r.error}`;
  if (r.timedOut) return '超时被终止';
  if (r.signal) return `被信号 ${r.signal} 终止`;
  return `退出码 ${r.code}`;
}
