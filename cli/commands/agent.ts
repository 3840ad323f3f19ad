import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { runUntilSignal } from './lifecycle.js';

// Subcommands import what they run when they run it: the agent must not carry the collector's
// web server and database drivers in its memory.

export function agentCommand(): Command {
  const agent = new Command('agent').description(
    'the per-server agent: collectors, /metrics, push to the collector',
  );

  agent
    .command('run', { isDefault: true })
    .description('run the agent (the default when no subcommand is given)')
    .option('-c, --config <file>', 'agent configuration (YAML); embedded defaults when omitted')
    .action(async (opts: { config?: string }) => {
      const { loadAgentConfig } = await import('../../agent/config.js');
      const { startAgent } = await import('../../agent/daemon.js');
      const config = loadAgentConfig(opts.config);
      const running = await startAgent(config);
      await runUntilSignal(() => running.close());
    });

  agent
    .command('enroll')
    .description("enrol an agent with this machine's collector store and print its token once")
    .argument('<name>', 'the agent name (the host label its metrics will carry)')
    .option('-c, --config <file>', 'collector configuration (YAML), to find its data directory')
    .option('--rotate', 'replace the token of an agent that is already enrolled')
    .option('--token-file <file>', 'also write the token to this file (mode 0600)')
    .action(async (name: string, opts: { config?: string; rotate?: boolean; tokenFile?: string }) => {
      const { loadCollectorConfig } = await import('../../collector/config.js');
      const { enrollAgent, openStore } = await import('../../collector/store/index.js');
      const config = loadCollectorConfig(opts.config);
      const store = await openStore(config.collector.dataDir);
      try {
        const { token } = await enrollAgent(store, name, { rotate: opts.rotate ?? false });
        if (opts.tokenFile) writeFileSync(opts.tokenFile, `${token}\n`, { mode: 0o600 });
        process.stdout.write(`${token}\n`);
        process.stderr.write(
          `agent "${name}" enrolled; the token above is shown only once. Give it to the agent through push.tokenFile or CREDITOPS_AGENT_TOKEN.\n`,
        );
      } finally {
        await store.close();
      }
    });

  return agent;
}
