/**
 * Check results are evidence: an agent that cannot reach the collector keeps them in its outbox,
 * across its own restart, and delivers every one once the collector is back — each stored once.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition } from './helpers/exposition.js';
import {
  creditopsArgs,
  type Daemon,
  freePort,
  httpText,
  startCreditops,
  tempDir,
  waitFor,
} from './helpers/processes.js';

const HOST = 'replay-host';

function value(text: string, name: string): number | undefined {
  return parseExposition(text).find((s) => s.name === name)?.value;
}

describe('outbox replay after a collector outage', () => {
  const dir = tempDir('replay');
  const daemons: Daemon[] = [];
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    dir.remove();
  });

  it('keeps results through an agent restart and delivers each exactly once', async () => {
    const [collectorPort, agentPort] = await Promise.all([freePort(), freePort()]);
    const collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const agentUrl = `http://127.0.0.1:${agentPort}`;
    const collectorConfig = join(dir.path, 'collector.yaml');
    writeFileSync(
      collectorConfig,
      `collector:\n  listen: 127.0.0.1:${collectorPort}\n  dataDir: ${join(dir.path, 'collector')}\n`,
    );
    const tokenFile = join(dir.path, 'agent.token');
    execFileSync(
      process.execPath,
      creditopsArgs(['agent', 'enroll', HOST, '-c', collectorConfig, '--token-file', tokenFile]),
      {
        stdio: 'pipe',
      },
    );
    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(
      agentConfig,
      `agent:\n  name: ${HOST}\n  listen: 127.0.0.1:${agentPort}\n  dataDir: ${join(dir.path, 'agent')}\npush:\n  url: ${collectorUrl}\n  tokenFile: ${tokenFile}\n  intervalSeconds: 1\n`,
    );

    // The collector is not running: every collector's first verdict waits in the outbox.
    let agent = startCreditops('agent', ['agent', '-c', agentConfig]);
    daemons.push(agent);
    const pendingBefore = await waitFor(
      'check results in the outbox',
      async () => {
        const { text } = await httpText(`${agentUrl}/metrics`);
        const pending = value(text, 'creditops_agent_outbox_pending');
        return pending !== undefined && pending >= 10 ? pending : undefined;
      },
      30_000,
      daemons,
    );
    const unreachable = await waitFor(
      'a failed push',
      async () => {
        const { text } = await httpText(`${agentUrl}/metrics`);
        const failed = parseExposition(text).find(
          (s) => s.name === 'creditops_agent_pushes_total' && s.labels.result === 'unreachable',
        );
        return failed && failed.value > 0 ? failed.value : undefined;
      },
      30_000,
      daemons,
    );
    expect(unreachable).toBeGreaterThan(0);

    // Restart the agent: the outbox is on disk, and new verdicts join the old ones.
    await agent.stop();
    agent = startCreditops('agent', ['agent', '-c', agentConfig]);
    daemons.push(agent);
    const pendingAfterRestart = await waitFor(
      'the outbox after a restart',
      async () => {
        const { text } = await httpText(`${agentUrl}/metrics`);
        const pending = value(text, 'creditops_agent_outbox_pending');
        return pending !== undefined && pending >= pendingBefore + 10 ? pending : undefined;
      },
      30_000,
      daemons,
    );

    daemons.push(startCreditops('collector', ['collector', '-c', collectorConfig]));
    await waitFor(
      'the outbox to drain',
      async () => {
        const { text } = await httpText(`${agentUrl}/metrics`);
        return value(text, 'creditops_agent_outbox_pending') === 0 ? true : undefined;
      },
      30_000,
      daemons,
    );
    const collectorMetrics = (await httpText(`${collectorUrl}/metrics`)).text;
    // Every sequence number the agent ever handed out is stored, once.
    const lastSeq = Number(readFileSync(join(dir.path, 'agent', 'outbox', 'seq'), 'utf8'));
    expect(lastSeq).toBeGreaterThanOrEqual(pendingAfterRestart);
    expect(value(collectorMetrics, 'creditops_check_results_stored_total')).toBe(lastSeq);
  });
});
