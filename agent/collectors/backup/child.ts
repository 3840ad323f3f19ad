/**
 * Runs a backup tool (pg_restore, psql, tar) with a hard timeout: on timeout or abort the child
 * gets SIGTERM, then SIGKILL after a grace period, and the result says so. Output is kept to a
 * bounded tail so a chatty tool cannot grow the agent's memory.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last `keepBytes` of stdout (unless stdout was consumed by onStdout). */
  stdout: string;
  /** The last `keepBytes` of stderr. */
  stderr: string;
  durationMs: number;
}

export interface ToolOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Fed to the child's stdin, then closed. */
  stdin?: Readable;
  signal?: AbortSignal;
  /** Bytes of each stream kept. */
  keepBytes?: number;
  /** Grace between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Receives stdout chunks instead of keeping them (for large listings). */
  onStdout?: (chunk: Buffer) => void;
}

function tail(previous: string, chunk: Buffer, keep: number): string {
  const next = previous + chunk.toString();
  return next.length > keep ? next.slice(-keep) : next;
}

export function runTool(command: string, args: string[], options: ToolOptions): Promise<ToolResult> {
  const keep = options.keepBytes ?? 16 * 1024;
  const started = performance.now();
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(command, args, {
      env: { ...process.env, LC_ALL: 'C', ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const stop = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 5000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.stdin && child.stdin) {
      options.stdin.on('error', (error) => {
        stderr = tail(stderr, Buffer.from(`\n[stdin] ${error.message}`), keep);
        child.stdin?.destroy();
      });
      child.stdin.on('error', () => {
        // The child exited before reading everything (EPIPE); its exit status tells why.
      });
      options.stdin.pipe(child.stdin);
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      if (options.onStdout) options.onStdout(chunk);
      else stdout = tail(stdout, chunk, keep);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = tail(stderr, chunk, keep);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = '') => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      options.stdin?.unpipe();
      resolve({
        code,
        signal,
        timedOut,
        aborted,
        stdout,
        stderr: stderr + extra,
        durationMs: performance.now() - started,
      });
    };
    child.once('error', (error) => finish(null, null, `cannot run ${command}: ${error.message}`));
    child.once('close', (code, signal) => finish(code, signal));
  });
}

/** One line on why a tool run failed, for verdicts and logs. */
export function describeFailure(tool: string, r: ToolResult, timeoutMs: number): string {
  if (r.timedOut) return `${tool} 超过 ${Math.round(timeoutMs / 1000)} 秒未完成，已终止`;
  if (r.aborted) return `${tool} 被中止`;
  const last = r.stderr.trim().split('\n').slice(-3).join(' | ');
  return `${tool} 退出码 ${r.code ?? r.signal}${last ? `：${last}` : ''}`;
}
