/**
 * Invalid configuration files, each paired with the exact diagnostics `creditops check-config`
 * prints for it, in the manner of blackbox_exporter's config tests.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../agent/config.js';
import { parseCollectorConfig } from '../collector/config.js';
import { ConfigError, formatDiagnostic } from '../lib/config-file.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'check-config-'));

function problems(parse: (text: string, file: string) => unknown, text: string): string[] {
  try {
    parse(text, 'f.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return [];
}

const agentCases: [string, string, string[]][] = [
  [
    'an unknown collector',
    'collectors:\n  cpuu: {}\n',
    ['f.yaml:2:3 collectors.cpuu: unknown key (check the spelling; see the configuration reference)'],
  ],
  [
    'a collector option of the wrong type',
    'collectors:\n  filesystem:\n    statfsTimeoutSeconds: fast\n',
    ['f.yaml:3:27 collectors.filesystem.statfsTimeoutSeconds: must be number (got "fast")'],
  ],
  [
    'an interval below its minimum',
    'collectors:\n  cpu:\n    intervalSeconds: 0\n',
    ['f.yaml:3:22 collectors.cpu.intervalSeconds: must be >= 1 (got 0)'],
  ],
  [
    'a listen address without a port',
    'agent:\n  listen: localhost\n',
    [
      'f.yaml:2:11 agent.listen: has the wrong form (got "localhost"); expected host:port, e.g. 127.0.0.1:9471 or [::1]:9471',
    ],
  ],
  [
    'a port out of range',
    'agent:\n  listen: 127.0.0.1:99999\n',
    ['f.yaml:2:11 agent.listen: port 99999 is out of range (0–65535)'],
  ],
  [
    'a collector URL that is not http(s)',
    'push:\n  url: ftp://x\n',
    ['f.yaml:2:8 push.url: must be an http:// or https:// URL (got "ftp://x")'],
  ],
  [
    'a URL that does not parse',
    'push:\n  url: "http://[::1"\n',
    ['f.yaml:2:8 push.url: not a URL (got "http://[::1"); expected e.g. http://127.0.0.1:9470'],
  ],
  [
    'an invalid regular expression',
    'collectors:\n  netdev:\n    deviceInclude: "(["\n',
    ['f.yaml:3:20 collectors.netdev.deviceInclude: not a valid regular expression (got "([")'],
  ],
  [
    'a name the collector would refuse',
    'agent:\n  name: web/01\n',
    [
      'f.yaml:2:9 agent.name: has the wrong form (got "web/01"); expected letters, digits, ".", "_" and "-", starting with a letter or digit (it becomes the host label)',
    ],
  ],
  [
    'a timeout longer than the interval',
    'collectors:\n  cpu:\n    intervalSeconds: 10\n    timeoutSeconds: 20\n',
    [
      'f.yaml:4:21 collectors.cpu.timeoutSeconds: must not exceed collectors.cpu.intervalSeconds (10): a run would still be going when the next is due',
    ],
  ],
  [
    'a log level that does not exist',
    'agent:\n  logLevel: loud\n',
    [
      'f.yaml:2:13 agent.logLevel: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
    ],
  ],
  [
    'two problems at once',
    'agent:\n  nmae: web\npush:\n  intervalSeconds: "15"\n',
    [
      'f.yaml:2:3 agent.nmae: unknown key (check the spelling; see the configuration reference)',
      'f.yaml:4:20 push.intervalSeconds: must be number (got "15")',
    ],
  ],
  [
    'a YAML syntax error',
    'agent:\n  name: [web\n',
    [
      'f.yaml:3:1 (top level): YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ],
];

describe('agent configuration errors', () => {
  it.each(agentCases)('%s', (_name, text, expected) => {
    expect(problems(parseAgentConfig, text)).toEqual(expected);
  });

  it('fills every default for an empty file', () => {
    const config = parseAgentConfig('', 'f.yaml');
    expect(config.agent.listen).toBe('127.0.0.1:9471');
    expect(config.push.intervalSeconds).toBe(15);
    expect(config.collectors.filesystem).toMatchObject({ enabled: true, statfsTimeoutSeconds: 5 });
  });
});

describe('collector configuration errors', () => {
  it('names the key and the expectation', () => {
    expect(problems(parseCollectorConfig, 'collector:\n  staleAfterIntervals: -1\n  lissten: x\n')).toEqual([
      'f.yaml:2:24 collector.staleAfterIntervals: must be >= 1 (got -1)',
      'f.yaml:3:3 collector.lissten: unknown key (check the spelling; see the configuration reference)',
    ]);
  });
});

describe('collector probe targets', () => {
  it('checks regular expressions, methods and ports the way the probes need them', () => {
    const text = [
      'collector:',
      '  probes:',
      '    targets:',
      '      - probe: endpoint.http',
      '        options: { url: "https://x.test/", mustMatch: ["(unclosed"], method: FETCH }',
      '      - probe: endpoint.tcp',
      '        options: { target: "127.0.0.1:99999" }',
      '',
    ].join('\n');
    expect(problems(parseCollectorConfig, text)).toEqual([
      'f.yaml:5:56 collector.probes.targets.0.options.mustMatch.0: not a valid regular expression (got "(unclosed")',
      'f.yaml:5:78 collector.probes.targets.0.options.method: must be one of "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH" (got "FETCH")',
      'f.yaml:7:28 collector.probes.targets.1.options.target: has the wrong form (got "127.0.0.1:99999"); expected host:port with a port from 0 to 65535, e.g. credit.example.gov.cn:443',
    ]);
  });
});

describe('creditops check-config', () => {
  const cli = (args: string[]) =>
    run(process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, 'main.ts'),
      'check-config',
      ...args,
    ]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        stdout: e.stdout,
        stderr: e.stderr,
      }),
    );

  it('accepts the shipped examples and rejects a bad file with every problem and exit code 1', async () => {
    for (const file of ['examples/agent.yaml', 'examples/collector.yaml']) {
      const ok = await cli([join(import.meta.dirname, '..', file)]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
    }
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'agent:\n  nmae: web\ncollectors:\n  load:\n    enabled: maybe\n');
    const result = await cli([bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        `${bad}:2:3 agent.nmae: unknown key (check the spelling; see the configuration reference)`,
        `${bad}:5:14 collectors.load.enabled: must be boolean (got "maybe")`,
        `${bad}: 2 problem(s) found`,
        '',
      ].join('\n'),
    );
  });

  it('says when it cannot tell the kind of file', async () => {
    const odd = join(dir, 'odd.yaml');
    writeFileSync(odd, 'something: else\n');
    const result = await cli([odd]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('expected a top-level "agent:" or "collector:" key');
  });
});
