/** Channel deps for tests: a silent logger, a settable clock, a fixed environment. */
import { pino } from 'pino';
import type { ChannelDeps } from '../channels/types.js';

export function testDeps(env: Record<string, string>, start = Date.parse('2026-05-11T02:00:00Z')) {
  const clock = { now: start };
  const deps: ChannelDeps = { log: pino({ level: 'silent' }), env, now: () => clock.now };
  return { deps, clock };
}
