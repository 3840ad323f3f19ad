/**
 * statfs(2) in a long-lived child process.
 *
 * Node's fs.statfs runs on libuv's thread pool, four threads shared by the whole process
 * (worker_threads included). A statfs on a hung NFS or FUSE mount never returns and keeps its
 * thread for good: four of them and every fs call of the agent (the other collectors, the outbox)
 * waits forever. A child process has its own pool, so a hung mount can only eat the child's
 * threads, and killing the child gives them back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from 'pino';

/** What the filesystem collector needs from statfs(2), in the units of Node's fs.StatsFs. */
export interface StatfsResult {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** A failed statfs(2): the errno name and the system's description of it. */
export class StatfsError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
  ) {
    super(`statfs failed: ${code}: ${description}`);
  }
}

/** Where the filesystem collector sends its statfs calls. */
export interface StatfsBackend {
  statfs(path: string): Promise<StatfsResult>;
  /**
   * Gives up on every call in flight and frees what they hold (kills the worker process). Their
   * promises may still settle later; the caller ignores them.
   */
  abandon(): void;
  /** Whether abandon() may be called now without exceeding the process bound. */
  canAbandon(): boolean;
  /** Worker processes alive, counting killed ones that have not exited yet. */
  processes(): number;
  close(): Promise<void>;
}

/** A plain statfs function (tests inject one that never resolves) as a backend. */
export function functionBackend(statfs: (path: string) => Promise<StatfsResult>): StatfsBackend {
  return {
    statfs,
    abandon() {},
    canAbandon: () => true,
    processes: () => 0,
    close: async () => {},
  };
}

/**
 * The child's program. It is passed with `node -e`, not as a file next to this one, so that it runs
 * the same from TypeScript under tsx or vitest (which put no loader in process.execArgv), and from
 * the tsc output in dist/ (which copies no .js/.mjs source); and it does not inherit --inspect or
 * NODE_OPTIONS from the agent. CommonJS, dependency-free, and deliberately tiny.
 */
export const STATFS_CHILD_SOURCE = `
'use strict';
const fs = require('node:fs');
// The agent is gone: exit at once. process.exit() would join the thread pool, and a thread stuck
// in statfs on a hung mount never joins.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
process.on('message', (m) => {
  fs.statfs(m.path, (err, s) => {
    if (!process.connected) return;
    if (err) {
      const prefix = (err.code || '') + ': ';
      let text = String(err.message);
      if (text.startsWith(prefix)) text = text.slice(prefix.length);
      const comma = text.lastIndexOf(', statfs');
      if (comma >= 0) text = text.slice(0, comma);
      process.send({ id: m.id, code: err.code || 'ERROR', description: text });
    } else {
      process.send({ id: m.id, stats: { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree } });
    }
  });
});
`;

interface Reply {
  id: number;
  stats?: StatfsResult;
  code?: string;
  description?: string;
}

interface Worker {
  process: ChildProcess;
  calls: Map<number, { resolve: (r: StatfsResult) => void; reject: (e: Error) => void }>;
  stderr: string;
}

export interface StatfsProcessOptions {
  /** The child's UV_THREADPOOL_SIZE: how many statfs calls it runs at once. */
  threads: number;
  log: Logger;
}

export class StatfsProcess implements StatfsBackend {
  private live: Worker | undefined;
  /** Killed workers whose exit has not been seen yet (a process in uninterruptible sleep lingers). */
  private readonly dying = new Set<Worker>();
  private nextId = 1;
  /** Processes started so far, for tests and logs. */
  spawned = 0;

  constructor(private readonly options: StatfsProcessOptions) {}

  /** Starts the worker now rather than at the first call. */
  start(): void {
    this.worker();
  }

  statfs(path: string): Promise<StatfsResult> {
    const worker = this.worker();
    const id = this.nextId++;
    return new Promise<StatfsResult>((resolve, reject) => {
      worker.calls.set(id, { resolve, reject });
      try {
        worker.process.send({ id, path }, (error) => {
          if (error)
            this.settle(worker, id, undefined, new Error('statfs worker: send failed', { cause: error }));
        });
      } catch (error) {
        this.settle(worker, id, undefined, new Error('statfs worker: send failed', { cause: error }));
      }
    });
  }

  abandon(): void {
    const worker = this.live;
    if (!worker) return;
    this.options.log.warn(
      { pid: worker.process.pid, outstanding: worker.calls.size },
      'killing the statfs worker: too many statfs calls hang',
    );
    this.kill(worker);
  }

  private kill(worker: Worker): void {
    this.live = undefined;
    this.dying.add(worker);
    worker.process.kill('SIGKILL');
    this.failAll(worker, new Error('statfs worker killed'));
  }

  canAbandon(): boolean {
    return this.dying.size === 0;
  }

  processes(): number {
    return (this.live ? 1 : 0) + this.dying.size;
  }

  async close(): Promise<void> {
    if (this.live) this.kill(this.live);
    const waits = [...this.dying].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.process.exitCode !== null || w.process.signalCode !== null) return resolve();
          const timer = setTimeout(resolve, 1000);
          w.process.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    );
    await Promise.all(waits);
  }

  private worker(): Worker {
    if (this.live) return this.live;
    const child = spawn(process.execPath, ['-e', STATFS_CHILD_SOURCE], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { UV_THREADPOOL_SIZE: String(this.options.threads) },
      serialization: 'json',
    });
    this.spawned++;
    const worker: Worker = { process: child, calls: new Map(), stderr: '' };
    child.on('message', (reply: Reply) => {
      if (reply.stats) this.settle(worker, reply.id, reply.stats, undefined);
      else
        this.settle(
          worker,
          reply.id,
          undefined,
          new StatfsError(reply.code ?? 'ERROR', reply.description ?? ''),
        );
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      worker.stderr = (worker.stderr + chunk).slice(-2000);
    });
    child.on('error', (error) => {
      this.options.log.error({ err: error }, 'statfs worker error');
    });
    child.on('exit', (code, signal) => {
      if (this.dying.delete(worker)) return;
      if (this.live === worker) this.live = undefined;
      this.options.log.error(
        { code, signal, stderr: worker.stderr },
        'statfs worker exited; a new one starts at the next call',
      );
      this.failAll(worker, new Error(`statfs worker exited (code ${code}, signal ${signal})`));
    });
    // Neither the worker nor its channel may keep the agent alive; calls in flight hold their own timers.
    child.unref();
    child.channel?.unref();
    this.live = worker;
    return worker;
  }

  private settle(
    worker: Worker,
    id: number,
    stats: StatfsResult | undefined,
    error: Error | undefined,
  ): void {
    const call = worker.calls.get(id);
    if (!call) return;
    worker.calls.delete(id);
    if (stats) call.resolve(stats);
    else call.reject(error ?? new Error('statfs failed'));
  }

  private failAll(worker: Worker, error: Error): void {
    const calls = [...worker.calls.values()];
    worker.calls.clear();
    for (const call of calls) call.reject(error);
  }
}
