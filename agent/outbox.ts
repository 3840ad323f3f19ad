/**
 * The agent's on-disk outbox of check results. A result is evidence for the monthly report, so
 * it is written (and fsynced) before anything else happens to it, sent with every push until the
 * collector acknowledges its sequence number, and replayed after an outage or a restart.
 *
 * Layout in `dir`: `results.jsonl` holds one unacknowledged result per line; `seq` holds the last
 * sequence number handed out, so numbers keep rising across restarts even when the file is empty.
 * Acknowledged results are dropped by rewriting the file (write to a temporary file, fsync,
 * rename), which keeps the file whole whenever the process dies.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CheckResult } from '../lib/wire/push.js';

export type NewCheckResult = Omit<CheckResult, 'seq'>;

export interface OutboxOptions {
  dir: string;
  log: Logger;
  /** Beyond this many unacknowledged results the oldest are dropped (and counted). */
  maxPending?: number;
}

function writeDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class Outbox {
  private readonly resultsPath: string;
  private readonly seqPath: string;
  private readonly maxPending: number;
  private pendingResults: CheckResult[] = [];
  private lastSeq = 0;
  dropped = 0;

  constructor(private readonly options: OutboxOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.resultsPath = join(options.dir, 'results.jsonl');
    this.seqPath = join(options.dir, 'seq');
    this.maxPending = options.maxPending ?? 50_000;
    this.load();
  }

  private load(): void {
    try {
      this.lastSeq = Number(readFileSync(this.seqPath, 'utf8').trim()) || 0;
    } catch {
      this.lastSeq = 0;
    }
    let text = '';
    try {
      text = readFileSync(this.resultsPath, 'utf8');
    } catch {
      return;
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        const result = JSON.parse(line) as CheckResult;
        this.pendingResults.push(result);
        this.lastSeq = Math.max(this.lastSeq, result.seq);
      } catch {
        // Only the last line can be torn (the process died while appending); anything else is
        // damage worth telling about. Either way the rest of the file is kept.
        this.options.log.warn({ file: this.resultsPath, line: index + 1 }, 'outbox: unreadable line skipped');
      }
    });
  }

  /** Gives the result the next sequence number and stores it durably before returning it. */
  enqueue(result: NewCheckResult): CheckResult {
    const stored: CheckResult = { seq: this.lastSeq + 1, ...result };
    this.lastSeq = stored.seq;
    writeDurably(this.seqPath, `${this.lastSeq}\n`);
    const fd = openSync(this.resultsPath, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(stored)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.pendingResults.push(stored);
    if (this.pendingResults.length > this.maxPending) {
      const excess = this.pendingResults.length - this.maxPending;
      this.pendingResults.splice(0, excess);
      this.dropped += excess;
      this.options.log.error({ dropped: excess }, 'outbox full: oldest unacknowledged check results dropped');
      this.rewrite();
    }
    return stored;
  }

  /** The oldest unacknowledged results, for the next push. */
  pending(limit = 1000): CheckResult[] {
    return this.pendingResults.slice(0, limit);
  }

  get size(): number {
    return this.pendingResults.length;
  }

  /** Forgets the acknowledged results, durably. Unknown sequence numbers are ignored. */
  ack(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const acked = new Set(seqs);
    const before = this.pendingResults.length;
    this.pendingResults = this.pendingResults.filter((r) => !acked.has(r.seq));
    if (this.pendingResults.length !== before) this.rewrite();
  }

  private rewrite(): void {
    writeDurably(this.resultsPath, this.pendingResults.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
