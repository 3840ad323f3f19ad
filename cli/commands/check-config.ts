import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../lib/config-file.js';

type Kind = 'agent' | 'collector';

/** Tells agent and collector files apart by their top-level section. */
export function guessKind(text: string): Kind | undefined {
  const doc = parseDocument(text);
  const top = doc.toJS() as Record<string, unknown> | null;
  if (top && typeof top === 'object') {
    if ('collector' in top) return 'collector';
    if ('agent' in top || 'push' in top || 'collectors' in top) return 'agent';
  }
  return undefined;
}

export function checkConfigCommand(): Command {
  return new Command('check-config')
    .description('validate an agent or collector configuration file and report every problem with its line')
    .argument('<file>', 'the YAML file')
    .addOption(
      new Option('--kind <kind>', 'which configuration it is (guessed from the top-level keys)').choices([
        'agent',
        'collector',
      ]),
    )
    .action(async (file: string, opts: { kind?: Kind }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        process.stderr.write(`${file}: cannot read: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const kind = opts.kind ?? guessKind(text);
      if (!kind) {
        process.stderr.write(
          `${file}:1:1 cannot tell whether this is an agent or a collector configuration: expected a top-level "agent:" or "collector:" key (or pass --kind)\n`,
        );
        process.exitCode = 1;
        return;
      }
      try {
        if (kind === 'agent') (await import('../../agent/config.js')).parseAgentConfig(text, file);
        else (await import('../../collector/config.js')).parseCollectorConfig(text, file);
        process.stdout.write(`${file}: ${kind} configuration OK\n`);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.stderr.write(`${file}: ${error.diagnostics.length} problem(s) found\n`);
        process.exitCode = 1;
      }
    });
}
