/**
 * Runs the host probes of probes/ (the security baseline) on this machine, as one scheduled unit
 * of the collector runner: daily by default and once at start. Each probe's results become
 * verdicts, so they travel to the collector through the outbox (seq, ack) and show up as
 * creditops_check_status like any other check.
 */
import { type TObject, type TProperties, Type } from '@sinclair/typebox';
import { LocalHost } from '../probes/hosts/local-host.js';
import { hostProbes } from '../probes/index.js';
import { type AnyProbe, runProbe } from '../probes/types.js';
import type { CollectContext, Collector } from './collectors/types.js';

function probeSchema(probe: AnyProbe): TObject {
  return Type.Object(
    { enabled: Type.Boolean({ default: true }), ...(probe.options.properties as TProperties) },
    { additionalProperties: false, default: {} },
  );
}

const checkSections: TProperties = {};
for (const [id, probe] of Object.entries(hostProbes)) checkSections[id] = probeSchema(probe);

/** The agent's `probes:` section, derived from the host-probe registry. */
export const ProbesSection = Type.Object(
  {
    /** Run the host probes at all. @defaultValue true */
    enabled: Type.Boolean({ default: true }),
    /** How often the baseline runs; it also runs once at start. @defaultValue 86400 (daily) */
    intervalSeconds: Type.Number({ minimum: 60, maximum: 7 * 86_400, default: 86_400 }),
    /** The whole run is abandoned after this long. @defaultValue 600 */
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 600 }),
    /** Per probe id: `enabled` and the probe's own options. */
    checks: Type.Object(checkSections, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false, default: {} },
);

export interface ProbesConfig {
  enabled: boolean;
  intervalSeconds: number;
  timeoutSeconds: number;
  checks: Record<string, { enabled: boolean } & Record<string, unknown>>;
}

export function hostProbesCollector(config: ProbesConfig, rootfs: string): Collector {
  const host = new LocalHost({ root: rootfs });
  return {
    async collect(ctx: CollectContext) {
      for (const [id, probe] of Object.entries(hostProbes)) {
        const { enabled = true, ...options } = config.checks[id] ?? {};
        if (!enabled || ctx.signal.aborted) continue;
        const results = await runProbe(probe, { host, options, signal: ctx.signal, now: ctx.now });
        for (const r of results) {
          ctx.report({
            check: probe.id,
            ...(r.target === undefined ? {} : { target: r.target }),
            status: r.status,
            summary: r.summary,
            details: {
              ...r.details,
              title: probe.title,
              ...(probe.clause ? { clause: probe.clause } : {}),
              remediation: probe.remediation,
            },
          });
        }
      }
    },
  };
}
