/**
 * The push protocol between agent and collector. The same schema validates a payload before the
 * agent sends it and when the collector receives it.
 *
 * Metrics are latest values (losing one push is harmless). Check results are evidence and must
 * never be lost: each carries a per-agent sequence number, the agent keeps it in its on-disk
 * outbox until the collector acknowledges that sequence number, and the collector stores a
 * result once per (agent, seq) however often it is replayed.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';

export const PROTOCOL_VERSION = 1;

/** JSON cannot carry NaN or infinities; they travel as these strings. */
export const SpecialValue = Type.Union([Type.Literal('NaN'), Type.Literal('+Inf'), Type.Literal('-Inf')]);

export const WireSample = Type.Object(
  {
    // propertyNames, not a pattern key: TypeBox turns a pattern key into patternProperties, which
    // lets names that do not match through unchecked.
    labels: Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
      maxProperties: 32,
      propertyNames: { pattern: '^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$' },
    }),
    value: Type.Union([Type.Number(), SpecialValue]),
  },
  { additionalProperties: false },
);

export const WireFamily = Type.Object(
  {
    name: Type.String({ pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$', maxLength: 200 }),
    help: Type.String({ maxLength: 1024 }),
    type: Type.Union([Type.Literal('counter'), Type.Literal('gauge'), Type.Literal('untyped')]),
    samples: Type.Array(WireSample, { maxItems: 100_000 }),
  },
  { additionalProperties: false },
);

export const CheckStatus = Type.Union([
  Type.Literal('OK'),
  Type.Literal('WARN'),
  Type.Literal('CRIT'),
  Type.Literal('UNKNOWN'),
]);
export type CheckStatus = Static<typeof CheckStatus>;

export const CheckResult = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    /** The probe or check id, e.g. `security.ssh.permit_root_login`. */
    check: Type.String({ minLength: 1, maxLength: 200 }),
    /** What was checked when one check covers several things (a mount point, a database). */
    target: Type.Optional(Type.String({ maxLength: 500 })),
    status: CheckStatus,
    summary: Type.String({ maxLength: 2000 }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    observedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type CheckResult = Static<typeof CheckResult>;

export const Inventory = Type.Object(
  {
    hostname: Type.String(),
    os: Type.Optional(Type.String()),
    kernel: Type.Optional(Type.String()),
    arch: Type.Optional(Type.String()),
    cpuModel: Type.Optional(Type.String()),
    cpuVendor: Type.Optional(Type.String()),
    cpuCores: Type.Optional(Type.Integer()),
    memoryBytes: Type.Optional(Type.Number()),
    collectedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: true },
);
export type Inventory = Static<typeof Inventory>;

export const PushPayload = Type.Object(
  {
    protocol: Type.Literal(PROTOCOL_VERSION),
    agent: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 200 }),
        version: Type.String({ maxLength: 100 }),
        /** How often the agent pushes; the collector marks it down after 3 silent intervals. */
        intervalSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
        startedAt: Type.String({ format: 'date-time' }),
      },
      { additionalProperties: false },
    ),
    sentAt: Type.String({ format: 'date-time' }),
    inventory: Type.Optional(Inventory),
    families: Type.Array(WireFamily, { maxItems: 10_000 }),
    checks: Type.Array(CheckResult, { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);
export type PushPayload = Static<typeof PushPayload>;
export type WireFamily = Static<typeof WireFamily>;

export const PushResponse = Type.Object({
  /** Sequence numbers now durably stored (including ones stored by an earlier push). */
  acked: Type.Array(Type.Integer()),
});
export type PushResponse = Static<typeof PushResponse>;

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('date-time', {
  type: 'string',
  validate: (s: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
});
const validatePayload = ajv.compile(PushPayload);

export interface WireError {
  path: string;
  message: string;
}

function describe(error: ErrorObject): WireError {
  const path = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return {
      path,
      message: `unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`,
    };
  }
  if (error.keyword === 'propertyNames' || error.propertyName !== undefined) {
    const name = error.propertyName ?? (error.params as { propertyName?: string }).propertyName;
    return {
      path,
      message: `invalid name "${name}": must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"`,
    };
  }
  return { path, message: error.message ?? error.keyword };
}

/** Validates a payload; returns the errors (an empty list when valid). */
export function checkPushPayload(value: unknown): WireError[] {
  if (validatePayload(value)) return [];
  const errors = (validatePayload.errors ?? []).map(describe);
  // A union of literal strings reports one error per member; keep the first per path.
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (seen.has(e.path)) return false;
    seen.add(e.path);
    return true;
  });
}

export function encodeValue(value: number): number | 'NaN' | '+Inf' | '-Inf' {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return value;
}

export function decodeValue(value: number | string): number {
  if (typeof value === 'number') return value;
  if (value === '+Inf') return Number.POSITIVE_INFINITY;
  if (value === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}
