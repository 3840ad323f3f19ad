import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config-file.js';
import { loadCollectorConfig, parseCollectorConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'creditops-collector-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadCollectorConfig', () => {
  it('gives every default without a file', () => {
    expect(loadCollectorConfig()).toEqual({
      collector: {
        listen: '127.0.0.1:9470',
        dataDir: './data/collector',
        bodyLimitBytes: 8 * 1024 * 1024,
        staleAfterIntervals: 3,
        logLevel: 'info',
        alertmanagerTokenFile: './data/alertmanager-webhook.token',
        ticketSweepSeconds: 10,
        probes: { source: 'creditops-collector', intervalSeconds: 60, timeoutSeconds: 30, targets: [] },
        inspection: {
          enabled: true,
          dailyAt: '08:30',
          utcOffsetMinutes: 480,
          maxResultAgeHours: 26,
          timeoutSeconds: 600,
          hosts: [],
        },
      },
    });
  });

  it('fills defaults around the keys a file sets', () => {
    const file = join(dir, 'collector.yaml');
    writeFileSync(file, 'collector:\n  listen: "[::1]:9470"\n  publicUrl: https://ops.example.gov.cn/\n');
    expect(loadCollectorConfig(file).collector).toMatchObject({
      listen: '[::1]:9470',
      publicUrl: 'https://ops.example.gov.cn/',
      staleAfterIntervals: 3,
    });
  });

  it('accepts an empty file', () => {
    expect(parseCollectorConfig('', 'empty.yaml').collector.listen).toBe('127.0.0.1:9470');
  });

  it.each([
    ['collector:\n  listen: 9470\n', 'c.yaml:2:11 collector.listen: must be string (got 9470)'],
    [
      'collector:\n  listen: localhost\n',
      'c.yaml:2:11 collector.listen: has the wrong form (got "localhost"); expected host:port, e.g. 127.0.0.1:9470 or [::1]:9470',
    ],
    [
      'collector:\n  logLevel: loud\n',
      'c.yaml:2:13 collector.logLevel: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
    ],
    ['collector:\n  bodyLimit: 10\n', 'c.yaml:2:3 collector.bodyLimit: unknown key'],
    [
      'collector:\n  staleAfterIntervals: 0\n',
      'c.yaml:2:24 collector.staleAfterIntervals: must be >= 1 (got 0)',
    ],
    ['colector:\n  listen: x\n', 'c.yaml:1:1 colector: unknown key'],
  ])('reports %j with file, line and key', (text, message) => {
    let error: unknown;
    try {
      parseCollectorConfig(text, 'c.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(message);
  });

  it('names the file it cannot read', () => {
    expect(() => loadCollectorConfig(join(dir, 'missing.yaml'))).toThrow(
      /missing\.yaml:0:0 \(top level\): cannot read the file/,
    );
  });
});
