/**
 * The measured side of bench/agent: builds the agent's collectors with the default configuration
 * (the same code path as `creditops agent`), then runs one full collection cycle and renders the
 * exposition each time the parent writes a line, answering "done" on stdout. The parent reads this
 * process's CPU time and peak RSS from /proc, so the cost of tsx and start-up is outside the
 * measured window.
 */
import { createInterface } from 'node:readline';
import { loadAgentConfig } from '../../agent/config.js';
import { scheduledCollectors } from '../../agent/daemon.js';
import { CollectorRunner } from '../../agent/runner.js';
import { formatExposition } from '../../lib/exposition.js';
import { createLogger } from '../../lib/log.js';

const config = loadAgentConfig();
const log = createLogger('bench', 'error');
// A collection cycle is every metric collector once. Jobs scheduled hourly or less often (the
// daily security baseline) are not part of a cycle: running them each cycle would measure a
// once-a-day cost 5,760 times a day.
const HOURLY_MS = 3_600_000;
const scheduled = scheduledCollectors(config, log);
const runner = new CollectorRunner({
  collectors: scheduled.filter((c) => c.intervalMs < HOURLY_MS),
  roots: { procRoot: config.agent.procRoot, sysRoot: config.agent.sysRoot, rootfs: config.agent.rootfs },
  log,
});

let bytes = 0;
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'quit') break;
  const cycles = Number(line) || 1;
  for (let i = 0; i < cycles; i++) {
    await runner.runAll();
    bytes = formatExposition(runner.families()).length;
  }
  const failed = runner
    .allStates()
    .filter((s) => !s.success)
    .map((s) => `${s.name}: ${s.error}`);
  process.stdout.write(`${JSON.stringify({ done: cycles, bytes, failed })}\n`);
}
await runner.stop();
process.exit(0);
