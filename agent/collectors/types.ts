/**
 * The unit of extension of the agent: one collector per file, each exporting a descriptor. The
 * registry map in ./index.ts lists them; configuration validation derives the allowed collector
 * names and their options from that map.
 */
import type { TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { MetricRegistry } from '../../lib/metrics.js';
import type { CheckStatus } from '../../lib/wire/push.js';

/**
 * A verdict a collector reaches from what it just read (a connection pool near saturation, a
 * backup too old). The agent turns verdicts into check results: stored in the outbox on every
 * change of status and at least every few minutes while unchanged, and exported as
 * creditops_check_status.
 */
export interface Verdict {
  /** Stable id, dotted, e.g. `postgres.connections`. */
  check: string;
  /** What the verdict is about when one check covers several things (a database, a mount). */
  target?: string;
  status: CheckStatus;
  /** Chinese, one sentence: what was found and why it matters. */
  summary: string;
  details?: Record<string, unknown>;
}

/** Where a collector looks at the machine. Tests point these at fixture trees. */
export interface HostRoots {
  /** Usually /proc. */
  procRoot: string;
  /** Usually /sys. */
  sysRoot: string;
  /** The root file system as the agent sees it (/ unless the agent runs in a container). */
  rootfs: string;
}

export interface CollectContext extends HostRoots {
  /** A registry made fresh for this run; whatever the collector writes here is its output. */
  registry: MetricRegistry;
  /** Aborted when the collector's timeout expires; long work should check it. */
  signal: AbortSignal;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
  log: Logger;
  /** Reports a verdict; see Verdict. */
  report: (verdict: Verdict) => void;
}

export interface Collector {
  collect(ctx: CollectContext): Promise<void>;
  /** Releases long-lived resources (child processes, connections). */
  close?(): Promise<void>;
}

export interface CollectorDescriptor<Options = Record<string, unknown>> {
  name: string;
  /** One line, English, for --help and the configuration reference. */
  description: string;
  defaultIntervalSeconds: number;
  defaultTimeoutSeconds: number;
  /** The collector's own options (without enabled/interval/timeout), with defaults. */
  options: TObject;
  create(options: Options, deps: { log: Logger }): Collector;
}
