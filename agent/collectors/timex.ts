import { createRequire } from 'node:module';
import { arch, endianness } from 'node:os';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Collector, CollectorDescriptor } from './types.js';

/** sizeof(struct timex) on 64-bit Linux (glibc and musl): 26 longs' worth with padding. */
export const TIMEX_SIZE = 208;
/** adjtimex(2) returns TIME_ERROR when the clock is not synchronised. */
const TIME_ERROR = 5;
const STA_UNSYNC = 0x40;
/** Offsets are in nanoseconds instead of microseconds. */
const STA_NANO = 0x2000;
/** freq, ppsfreq and stabil are in ppm with a 16-bit fractional part. */
const PPM16FRAC = 1_000_000 * 65_536;

/** Calls adjtimex(2) with buf as struct timex (modes already 0: read only) and returns its result. */
export type Adjtimex = (buf: Buffer) => number;

export interface Timex {
  syncStatus: number;
  offsetSeconds: number;
  frequencyAdjustmentRatio: number;
  maxerrorSeconds: number;
  estimatedErrorSeconds: number;
  status: number;
  loopTimeConstant: number;
  tickSeconds: number;
  ppsFrequencyHertz: number;
  ppsJitterSeconds: number;
  ppsShiftSeconds: number;
  ppsStabilityHertz: number;
  ppsJitterTotal: number;
  ppsCalibrationTotal: number;
  ppsErrorTotal: number;
  ppsStabilityExceededTotal: number;
  taiOffsetSeconds: number;
}

/**
 * Decodes struct timex as laid out on 64-bit Linux: int modes@0; long offset@8, freq@16,
 * maxerror@24, esterror@32; int status@40; long constant@48, precision@56, tolerance@64;
 * struct timeval time@72; long tick@88, ppsfreq@96, jitter@104; int shift@112; long stabil@120,
 * jitcnt@128, calcnt@136, errcnt@144, stbcnt@152; int tai@160.
 */
export function decodeTimex(buf: Buffer, result: number, littleEndian = endianness() === 'LE'): Timex {
  const long = (at: number) => Number(littleEndian ? buf.readBigInt64LE(at) : buf.readBigInt64BE(at));
  const int = (at: number) => (littleEndian ? buf.readInt32LE(at) : buf.readInt32BE(at));
  const status = int(40);
  const divisor = status & STA_NANO ? 1e9 : 1e6;
  return {
    // node_exporter looks at the result only; STA_UNSYNC always yields TIME_ERROR, checking it too
    // keeps a decoded buffer meaningful on its own.
    syncStatus: result === TIME_ERROR || status & STA_UNSYNC ? 0 : 1,
    offsetSeconds: long(8) / divisor,
    frequencyAdjustmentRatio: 1 + long(16) / PPM16FRAC,
    maxerrorSeconds: long(24) / 1e6,
    estimatedErrorSeconds: long(32) / 1e6,
    status,
    loopTimeConstant: long(48),
    tickSeconds: long(88) / 1e6,
    ppsFrequencyHertz: long(96) / PPM16FRAC,
    ppsJitterSeconds: long(104) / divisor,
    ppsShiftSeconds: int(112),
    ppsStabilityHertz: long(120) / PPM16FRAC,
    ppsJitterTotal: long(128),
    ppsCalibrationTotal: long(136),
    ppsErrorTotal: long(144),
    ppsStabilityExceededTotal: long(152),
    taiOffsetSeconds: int(160),
  };
}

/** The families, in node_exporter's names, types and help. */
const FAMILIES: [keyof Timex, string, 'gauge' | 'counter', string][] = [
  ['syncStatus', 'sync_status', 'gauge', 'Is clock synchronized to a reliable server (1 = yes, 0 = no).'],
  ['offsetSeconds', 'offset_seconds', 'gauge', 'Time offset in between local system and reference clock.'],
  ['frequencyAdjustmentRatio', 'frequency_adjustment_ratio', 'gauge', 'Local clock frequency adjustment.'],
  ['maxerrorSeconds', 'maxerror_seconds', 'gauge', 'Maximum error in seconds.'],
  ['estimatedErrorSeconds', 'estimated_error_seconds', 'gauge', 'Estimated error in seconds.'],
  ['status', 'status', 'gauge', 'Value of the status array bits.'],
  ['loopTimeConstant', 'loop_time_constant', 'gauge', 'Phase-locked loop time constant.'],
  ['tickSeconds', 'tick_seconds', 'gauge', 'Seconds between clock ticks.'],
  ['ppsFrequencyHertz', 'pps_frequency_hertz', 'gauge', 'Pulse per second frequency.'],
  ['ppsJitterSeconds', 'pps_jitter_seconds', 'gauge', 'Pulse per second jitter.'],
  ['ppsShiftSeconds', 'pps_shift_seconds', 'gauge', 'Pulse per second interval duration.'],
  [
    'ppsStabilityHertz',
    'pps_stability_hertz',
    'gauge',
    'Pulse per second stability, average of recent frequency changes.',
  ],
  [
    'ppsJitterTotal',
    'pps_jitter_total',
    'counter',
    'Pulse per second count of jitter limit exceeded events.',
  ],
  [
    'ppsCalibrationTotal',
    'pps_calibration_total',
    'counter',
    'Pulse per second count of calibration intervals.',
  ],
  ['ppsErrorTotal', 'pps_error_total', 'counter', 'Pulse per second count of calibration errors.'],
  [
    'ppsStabilityExceededTotal',
    'pps_stability_exceeded_total',
    'counter',
    'Pulse per second count of stability limit exceeded events.',
  ],
  ['taiOffsetSeconds', 'tai_offset_seconds', 'gauge', 'International Atomic Time (TAI) offset.'],
];

/** 64-bit architectures whose struct timex has the layout decodeTimex reads. */
const SUPPORTED_ARCHS = new Set(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el']);

/**
 * Binds libc's adjtimex through koffi. koffi is loaded here, not at import, so a missing or broken
 * native module makes this collector fail with its reason instead of stopping the agent.
 */
export function loadLibcAdjtimex(): Adjtimex {
  if (!SUPPORTED_ARCHS.has(arch()))
    throw new Error(`timex: struct timex layout of ${arch()} is not supported`);
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as typeof import('koffi');
  const libc = koffi.load('libc.so.6');
  const fn = libc.func('int adjtimex(_Inout_ uint8_t *buf)');
  return (buf) => fn(buf) as number;
}

export interface TimexDeps {
  log: Logger;
  /** Replaces libc's adjtimex (tests). */
  adjtimex?: Adjtimex;
}

export const timex = {
  name: 'timex',
  description: 'Kernel clock discipline state from adjtimex(2): sync status, offset, frequency, errors.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Type.Object({}),
  create(_options: Record<string, never>, deps: TimexDeps): Collector {
    let adjtimex = deps.adjtimex;
    let loadError: unknown;
    if (!adjtimex) {
      try {
        adjtimex = loadLibcAdjtimex();
      } catch (error) {
        loadError = error;
      }
    }
    return {
      async collect(ctx) {
        if (!adjtimex) throw new Error('timex: cannot call adjtimex(2) through koffi', { cause: loadError });
        const buf = Buffer.alloc(TIMEX_SIZE);
        const result = adjtimex(buf);
        if (result < 0) throw new Error(`timex: adjtimex(2) failed with ${result}`);
        const t = decodeTimex(buf, result);
        for (const [key, name, type, help] of FAMILIES)
          ctx.registry.declare(`node_timex_${name}`, type, help).value(t[key]);
      },
    };
  },
} satisfies CollectorDescriptor<Record<string, never>>;
