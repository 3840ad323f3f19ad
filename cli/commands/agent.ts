import { closeSync, existsSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
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
      // Open the token file before enrolling: a path that cannot be written must not leave an
      // enrolled agent whose only copy of the token is lost.
      let tokenFd: number | undefined;
      let enrolled = false;
      const tokenFileExisted = opts.tokenFile !== undefined && existsSync(opts.tokenFile);
      if (opts.tokenFile) {
        try {
          // Appending mode: an existing token file is left as it is if enrolling fails.
          tokenFd = openSync(opts.tokenFile, 'a', 0o600);
        } catch (error) {
          throw new Error(
            `cannot write the token file ${opts.tokenFile}: ${(error as Error).message}; nothing was enrolled`,
          );
        }
      }
      const store = await openStore(config.collector.dataDir);
      try {
        const { AgentExistsError } = await import('../../collector/store/agents.js');
        const { token } = await enrollAgent(store, name, { rotate: opts.rotate ?? false }).catch(
          (error: unknown) => {
            if (error instanceof AgentExistsError) {
              throw new Error(
                `agent "${name}" is already enrolled; pass --rotate to give it a new token (the old one stops working)`,
              );
            }
            throw error;
          },
        );
        enrolled = true;
        if (tokenFd !== undefined) {
          ftruncateSync(tokenFd, 0);
          writeSync(tokenFd, `${token}\n`);
          process.stderr.write(`agent "${name}" enrolled; its token is in ${opts.tokenFile} (mode 0600).\n`);
        } else {
          process.stdout.write(`${token}\n`);
          process.stderr.write(
            `agent "${name}" enrolled; the token above is shown only once. Give it to the agent through push.tokenFile or CREDITOPS_AGENT_TOKEN.\n`,
          );
        }
      } finally {
        if (tokenFd !== undefined) {
          closeSync(tokenFd);
          if (!enrolled && !tokenFileExisted) rmSync(opts.tokenFile!, { force: true });
        }
        await store.close();
      }
    });

  return agent;
}
