import { Command } from 'commander';
import { loadCollectorConfig } from '../../collector/config.js';
import { startCollector } from '../../collector/server.js';
import { runUntilSignal } from './lifecycle.js';

export function collectorCommand(): Command {
  return new Command('collector')
    .description('run the central collector: push ingest, merged /metrics, service discovery, store')
    .option('-c, --config <file>', 'collector configuration (YAML); embedded defaults when omitted')
    .action(async (opts: { config?: string }) => {
      const config = loadCollectorConfig(opts.config);
      const running = await startCollector(config);
      await runUntilSignal(() => running.close());
    });
}
