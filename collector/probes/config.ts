/**
 * `collector.probes`: the endpoint probes the collector runs from the centre. The allowed probe
 * ids and each one's options come from the registry in probes/index.ts.
 *
 * ```yaml
 * collector:
 *   probes:
 *     intervalSeconds: 60
 *     targets:
 *       - probe: endpoint.http
 *         options: { url: "https://credit.example.gov.cn/", mustMatch: ["信用"] }
 *       - probe: endpoint.tls
 *         intervalSeconds: 3600
 *         options: { target: "credit.example.gov.cn:443" }
 * ```
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { targetProbes } from '../../probes/index.js';

export interface EndpointTargetConfig {
  probe: string;
  /** Shown in messages; the probe's own target (URL, host:port) by default. */
  name?: string;
  intervalSeconds?: number;
  options: Record<string, unknown>;
}

export interface CollectorProbesConfig {
  /** The name the results are stored under, as if from an agent. */
  source: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  targets: EndpointTargetConfig[];
}

const PROBE_IDS = Object.keys(targetProbes);

/**
 * One target: `probe` picks the probe, and an if/then per probe checks `options` against that
 * probe's own schema, so a wrong option is reported once, at its line.
 */
const TargetSchema: TSchema = Type.Object(
  {
    probe: Type.Unsafe<string>({ type: 'string', enum: PROBE_IDS }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    intervalSeconds: Type.Optional(Type.Number({ minimum: 5, maximum: 86_400 })),
    options: Type.Object({}, { additionalProperties: true }),
  },
  {
    additionalProperties: false,
    allOf: Object.entries(targetProbes).map(([id, probe]) => ({
      if: { properties: { probe: { const: id } }, required: ['probe'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
      then: { properties: { options: { ...probe.options, additionalProperties: false } } },
    })),
  },
);

export const CollectorProbesSection = Type.Unsafe<CollectorProbesConfig>(
  Type.Object(
    {
      /**
       * The pseudo-agent the collector's own check results are stored under.
       * @defaultValue "creditops-collector"
       */
      source: Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^[^\\s]+$',
        default: 'creditops-collector',
      }),
      /** @defaultValue 60 */
      intervalSeconds: Type.Number({ minimum: 5, maximum: 86_400, default: 60 }),
      /** @defaultValue 30 */
      timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 30 }),
      targets: Type.Array(TargetSchema, { default: [] }),
    },
    { additionalProperties: false, default: {} },
  ),
);
