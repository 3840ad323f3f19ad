import { Command } from 'commander';
import { runUntilSignal } from './lifecycle.js';

export function collectorCommand(): Command {
  return new Command('collector')
    .description('run the central collector: push ingest, merged /metrics, service discovery, store')
    .option('-c, --config <file>', 'collector configuration (YAML); embedded defaults when omitted')
    .action(async (opts: { config?: string }) => {
      const { loadCollectorConfig } = await import('../../collector/config.js');
      const { startCollector } = await import('../../collector/server.js');
      const config = loadCollectorConfig(opts.config);
      const running = await startCollector(config);
      await runUntilSignal(() => running.close());
    });
}
