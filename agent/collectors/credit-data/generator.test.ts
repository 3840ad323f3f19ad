// The example generator (examples/credit-db/generate.ts) is what the data-check tests trust as
// ground truth: it must be reproducible and fast.
import { describe, expect, it } from 'vitest';
import { generate } from '../../../examples/credit-db/generate.js';

describe('examples/credit-db generator', () => {
  it('gives the same data for the same seed, other data for another', () => {
    const a = generate({ seed: 7, records: 3000, month: '2026-11' });
    const b = generate({ seed: 7, records: 3000, month: '2026-11' });
    const c = generate({ seed: 8, records: 3000, month: '2026-11' });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a.penalty_record)).not.toBe(JSON.stringify(c.penalty_record));
    expect(a.license_record.length + a.penalty_record.length).toBe(3000);
  });

  it('generates 100,000 records in seconds, with every kind of fault', () => {
    const started = performance.now();
    const g = generate({ seed: 42, records: 100_000, month: '2026-11' });
    expect((performance.now() - started) / 1000).toBeLessThan(15);
    expect(g.departments).toHaveLength(40);
    const t = g.truth;
    const all = Object.values(t.datasets).flatMap((d) => Object.values(d.departments));
    const sum = (f: (d: (typeof all)[number]) => number) => all.reduce((s, d) => s + f(d), 0);
    expect(sum((d) => d.invalid.code)).toBeGreaterThan(0);
    expect(sum((d) => d.invalid.mandatory)).toBeGreaterThan(0);
    expect(sum((d) => d.invalid.duplicate)).toBeGreaterThan(0);
    expect(sum((d) => d.invalid.date)).toBeGreaterThan(0);
    expect(sum((d) => d.invalid.fine)).toBeGreaterThan(0);
    expect(sum((d) => d.overdue)).toBeGreaterThan(0);
    expect(sum((d) => d.pilot)).toBeGreaterThan(0);
    expect(t.silentDepartments.length).toBeGreaterThan(0);
    expect(t.datasets.penalty.reconciliation.overdueDays).toEqual(['2026-11-18']);
    expect(t.datasets.penalty.stillPublic.map((s) => s.reason).sort()).toEqual([
      'expired',
      'repaired',
      'repaired',
    ]);
  }, 30_000);
});
