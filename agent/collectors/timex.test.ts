import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runOnce } from './run-once.js';
import { decodeTimex, TIMEX_SIZE, timex } from './timex.js';

const log = pino({ level: 'silent' });
const roots = { procRoot: '/nonexistent', sysRoot: '/nonexistent', rootfs: '/' };

/** A struct timex as a synchronised chrony leaves it (STA_PLL | STA_NANO). */
function syncedTimex(buf: Buffer): number {
  buf.writeBigInt64LE(1_500_000n, 8); // offset: 1.5 ms in ns
  buf.writeBigInt64LE(655_360n, 16); // freq: +10 ppm << 16
  buf.writeBigInt64LE(16_000n, 24); // maxerror µs
  buf.writeBigInt64LE(500n, 32); // esterror µs
  buf.writeInt32LE(0x2001, 40); // status
  buf.writeBigInt64LE(6n, 48); // constant
  buf.writeBigInt64LE(10_000n, 88); // tick µs
  buf.writeInt32LE(37, 160); // tai
  return 0; // TIME_OK
}

describe('timex', () => {
  it('decodes struct timex: nanosecond offsets under STA_NANO, scaled ppm, sync status', () => {
    const buf = Buffer.alloc(TIMEX_SIZE);
    const t = decodeTimex(buf, syncedTimex(buf), true);
    expect(t).toMatchObject({
      syncStatus: 1,
      offsetSeconds: 0.0015,
      maxerrorSeconds: 0.016,
      estimatedErrorSeconds: 0.0005,
      status: 0x2001,
      loopTimeConstant: 6,
      tickSeconds: 0.01,
      taiOffsetSeconds: 37,
    });
    expect(t.frequencyAdjustmentRatio).toBeCloseTo(1.00001, 12);
  });

  it('an unsynchronised clock (TIME_ERROR, STA_UNSYNC) has sync status 0 and microsecond offsets', () => {
    const buf = Buffer.alloc(TIMEX_SIZE);
    buf.writeInt32LE(0x40, 40);
    buf.writeBigInt64LE(-250n, 8);
    const t = decodeTimex(buf, 5, true);
    expect(t.syncStatus).toBe(0);
    expect(t.offsetSeconds).toBe(-0.00025);
  });

  it('writes node_exporter names from an injected adjtimex', async () => {
    const collector = timex.create({}, { log, adjtimex: syncedTimex });
    const { text } = await runOnce(collector, roots);
    await expect(text).toMatchFileSnapshot('./__snapshots__/timex.prom');
  });

  it('reports a failing syscall as a collector failure', async () => {
    const collector = timex.create({}, { log, adjtimex: () => -1 });
    await expect(runOnce(collector, roots)).rejects.toThrow('adjtimex(2) failed');
  });

  it.skipIf(process.arch !== 'x64' && process.arch !== 'arm64')(
    'calls the real adjtimex through koffi',
    async () => {
      const { families } = await runOnce(timex.create({}, { log }), roots);
      const tick = families.find((f) => f.name === 'node_timex_tick_seconds')!.samples[0]!.value;
      // USER_HZ ticks: 10 ms on every common kernel configuration.
      expect(tick).toBeGreaterThan(0);
      expect(tick).toBeLessThan(1);
      expect([0, 1]).toContain(families.find((f) => f.name === 'node_timex_sync_status')!.samples[0]!.value);
    },
  );
});
