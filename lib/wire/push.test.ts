import { describe, expect, it } from 'vitest';
import { checkPushPayload, decodeValue, encodeValue, PROTOCOL_VERSION } from './push.js';

const valid = () => ({
  protocol: PROTOCOL_VERSION,
  agent: { name: 'web-01', version: '0.1.0', intervalSeconds: 15, startedAt: '2026-12-03T08:00:00Z' },
  sentAt: '2026-12-03T08:00:15.123Z',
  families: [{ name: 'node_load1', help: '1m load', type: 'gauge', samples: [{ labels: {}, value: 0.5 }] }],
  checks: [
    {
      seq: 1,
      check: 'agent.collector',
      target: 'cpu',
      status: 'OK',
      summary: '正常',
      observedAt: '2026-12-03T08:00:00Z',
    },
  ],
});

describe('push payload schema', () => {
  it('accepts a valid payload', () => {
    expect(checkPushPayload(valid())).toEqual([]);
  });

  it('names the path of each problem', () => {
    const p = valid() as Record<string, unknown> & ReturnType<typeof valid>;
    (p.families[0] as Record<string, unknown>).name = 'bad name';
    (p.checks[0] as Record<string, unknown>).status = 'FINE';
    (p.checks[0] as Record<string, unknown>).seq = 0;
    p.extra = true;
    const errors = checkPushPayload(p);
    const paths = errors.map((e) => e.path);
    expect(paths).toContain('/families/0/name');
    expect(paths).toContain('/checks/0/status');
    expect(paths).toContain('/checks/0/seq');
    expect(errors.find((e) => e.path === '/')?.message).toBe('unknown property "extra"');
  });

  it('rejects a label name that is not a Prometheus label name', () => {
    const p = valid();
    p.families[0]!.samples[0]!.labels = { 'bad-label': 'x' } as Record<string, string>;
    expect(checkPushPayload(p).map((e) => e.path)).toContain('/families/0/samples/0/labels');
    p.families[0]!.samples[0]!.labels = { __name__: 'x' };
    expect(checkPushPayload(p).map((e) => e.path)).toContain('/families/0/samples/0/labels');
  });

  it('carries NaN and infinities as strings', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]) {
      expect(Object.is(decodeValue(encodeValue(v)), v)).toBe(true);
    }
  });
});
