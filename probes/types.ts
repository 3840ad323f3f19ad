/**
 * The unit of extension of probes/: one probe per file, each exporting a descriptor. The registry
 * map in ./index.ts lists them; configuration validation derives the allowed probe ids and their
 * options from that map.
 *
 * A probe never throws and never answers a bare boolean: every result carries a status and, in
 * Chinese, the reason. `runProbe` is the one place that turns an unexpected throw into UNKNOWN.
 */
import type { TObject } from '@sinclair/typebox';
import type { MetricFamily } from '../lib/metrics.js';
import type { CheckStatus } from '../lib/wire/push.js';
import type { Host } from './host.js';

export type ProbeCategory = 'endpoint' | 'portal' | 'security' | 'health' | 'backup' | 'data';
export type { CheckStatus };

export interface ProbeResult {
  status: CheckStatus;
  /** Chinese, one sentence: what was found and why it matters. */
  summary: string;
  /** What the result is about when one probe covers several things (a user, a port, a URL). */
  target?: string;
  /** The evidence: the lines, values and files the verdict rests on. */
  details?: Record<string, unknown>;
  /** Metrics the probe measured (blackbox_exporter names for endpoint probes). */
  metrics?: MetricFamily[];
}

export interface ProbeContext<Options = Record<string, unknown>> {
  options: Options;
  /** The machine the probe looks at: LocalHost in the agent, SshHost from the collector. */
  host: Host;
  /** Aborted when the probe's time is up; long work should check it. */
  signal: AbortSignal;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
}

export interface ProbeDescriptor<Options = Record<string, unknown>> {
  /** Stable, dotted, e.g. `security.ssh.permit_root_login`; the check id of its results. */
  id: string;
  category: ProbeCategory;
  /** Chinese. */
  title: string;
  /** Chinese: what to do when the result is not OK. */
  remediation: string;
  /** The standard clause the probe evidences, e.g. `GB/T 22239-2019 8.1.4.1 a)`. */
  clause?: string;
  /** Lynis test ids and CIS benchmark items that check the same thing. */
  crossRef?: string[];
  /** The probe's own options, with defaults. */
  options: TObject;
  run(ctx: ProbeContext<Options>): Promise<ProbeResult[]>;
}

// biome-ignore lint/suspicious/noExplicitAny: each descriptor has its own options type
export type AnyProbe = ProbeDescriptor<any>;

export const STATUS_RANK: Record<CheckStatus, number> = { OK: 0, UNKNOWN: 1, WARN: 2, CRIT: 3 };

/** The worst of several statuses (CRIT > WARN > UNKNOWN > OK). */
export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  let worst: CheckStatus = 'OK';
  for (const s of statuses) if (STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
  return worst;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * Runs a probe so that it cannot throw: a throw, a non-array answer or an empty answer becomes an
 * UNKNOWN result with the reason, so a broken probe shows up as a verdict and not as silence.
 */
export async function runProbe<O>(probe: ProbeDescriptor<O>, ctx: ProbeContext<O>): Promise<ProbeResult[]> {
  try {
    const results = await probe.run(ctx);
    if (!Array.isArray(results)) {
      return [
        {
          status: 'UNKNOWN',
          summary: `检查项 ${probe.id} 返回了无效结果`,
          details: { returned: typeof results },
        },
      ];
    }
    if (results.length === 0) {
      return [{ status: 'UNKNOWN', summary: `检查项 ${probe.id} 未给出结论` }];
    }
    return results;
  } catch (error) {
    return [
      {
        status: 'UNKNOWN',
        summary: `检查项 ${probe.id} 执行失败：${reasonOf(error)}`,
        details: { error: reasonOf(error) },
      },
    ];
  }
}
