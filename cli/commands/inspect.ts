/**
 * `creditops inspect [host…]`: runs the daily inspection now and prints a readable report.
 * Without a host it inspects the machine it runs on (nothing is stored); with hosts, or with
 * `--all`, it uses the collector's store and configuration (agents' reports, SSH hosts) and
 * stores each report, showing progress on stderr.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { loadCollectorConfig } from '../../collector/config.js';
import { renderReport } from '../../collector/inspection/format.js';
import { inspectHost, localDay, summarise } from '../../collector/inspection/report.js';
import { InspectionScheduler } from '../../collector/inspection/schedule.js';
import { openStore } from '../../collector/store/store.js';
import { LocalHost } from '../../probes/hosts/local-host.js';

interface Options {
  config?: string;
  all?: boolean;
  root?: string;
  json?: boolean;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description(
      'run the daily inspection (日常巡检) now and print the report; without a host, inspect this machine',
    )
    .argument(
      '[hosts...]',
      'hosts to inspect through the collector (enrolled agents or configured SSH hosts)',
    )
    .option('-c, --config <file>', 'the collector configuration (store location, SSH hosts)')
    .option('--all', 'inspect every host the collector knows')
    .option('--root <dir>', 'inspect a root file system tree instead of / (this machine only)')
    .option('--json', 'print the reports as JSON')
    .action(async (hosts: string[], opts: Options) => {
      if (hosts.length === 0 && !opts.all) {
        // A tree that is not there would pass every "no such file" check: refuse it.
        if (opts.root && !existsSync(join(opts.root, 'etc', 'passwd'))) {
          throw new Error(`--root ${opts.root} is not a root file system (no etc/passwd in it)`);
        }
        const host = new LocalHost(opts.root ? { root: opts.root } : {});
        const checks = await inspectHost(host, {
          now: Date.now,
          onProgress: (done, total, check) => {
            // A terminal gets one line rewritten in place; a pipe or a log gets plain lines.
            if (process.stderr.isTTY) process.stderr.write(`\r巡检中 ${done}/${total} ${check}\u001b[K`);
            else if (!opts.json && check) process.stderr.write(`巡检中 ${done}/${total} ${check}\n`);
          },
        });
        if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
        const day = localDay(Date.now(), 480);
        const { summary, status } = summarise(checks);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ host: host.name, day, status, summary, checks }, null, 2)}\n`
            : `${renderReport('本机', day, summary, checks)}\n`,
        );
        process.exitCode = status === 'CRIT' ? 2 : status === 'OK' ? 0 : 1;
        return;
      }
      const config = loadCollectorConfig(opts.config).collector;
      const store = await openStore(config.dataDir);
      try {
        const scheduler = new InspectionScheduler({
          store,
          config: config.inspection,
          sourceName: config.probes.source,
          now: Date.now,
          log: pino({ level: 'silent' }),
        });
        const reports = await scheduler.runAll(
          'manual',
          opts.all ? undefined : hosts,
          ({ host, index, total, done }) => {
            process.stderr.write(
              done
                ? `[${index + 1}/${total}] ${host}：${done.summary}\n`
                : `[${index + 1}/${total}] 巡检 ${host} …\n`,
            );
          },
        );
        for (const r of reports) {
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(r, null, 2)}\n`
              : `${renderReport(r.host, r.day, r.summary, r.checks)}\n\n`,
          );
        }
        // A host name nobody knows comes back as UNKNOWN: a typo must not look like success.
        process.exitCode = reports.some((r) => r.status === 'CRIT')
          ? 2
          : reports.some((r) => r.status !== 'OK')
            ? 1
            : 0;
      } finally {
        await store.close();
      }
    });
}
