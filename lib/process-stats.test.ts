import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseBootTime,
  parseMaxFds,
  parseProcStat,
  parseStatusRss,
  readProcessStats,
} from './process-stats.js';

// A real /proc/self/stat line with a command name containing a space and a parenthesis.
const STAT =
  '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 12010 0 0 0 250 75 0 0 20 0 11 0 123456 1384505344 32428 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 3 0 0 0 0 0';

describe('/proc parsers', () => {
  it('parses /proc/self/stat past a tricky command name', () => {
    expect(parseProcStat(STAT)).toEqual({
      utimeTicks: 250,
      stimeTicks: 75,
      startTimeTicks: 123456,
      virtualBytes: 1384505344,
      rssPages: 32428,
    });
  });

  it('parses btime, VmRSS and the open files limit', () => {
    expect(parseBootTime('cpu  1 2 3\nbtime 1740960000\nprocesses 10\n')).toBe(1740960000);
    expect(parseStatusRss('Name:\tnode\nVmRSS:\t  129712 kB\n')).toBe(129712 * 1024);
    expect(
      parseMaxFds(
        'Limit Soft Limit Hard Limit Units\nMax open files            20000                20000                files\n',
      ),
    ).toBe(20000);
    expect(
      parseMaxFds('Max open files            unlimited            unlimited            files\n'),
    ).toBeNull();
  });

  it('reads a fixture /proc tree', async () => {
    const root = mkdtempSync(join(tmpdir(), 'creditops-proc-'));
    try {
      mkdirSync(join(root, 'self', 'fd'), { recursive: true });
      writeFileSync(join(root, 'self', 'stat'), STAT);
      writeFileSync(join(root, 'stat'), 'btime 1740960000\n');
      writeFileSync(join(root, 'self', 'status'), 'VmRSS:\t 1000 kB\n');
      writeFileSync(
        join(root, 'self', 'limits'),
        'Max open files            1024                 4096                 files\n',
      );
      for (const fd of ['0', '1', '2']) writeFileSync(join(root, 'self', 'fd', fd), '');
      expect(await readProcessStats(root)).toEqual({
        cpuSeconds: 3.25,
        residentBytes: 1_024_000,
        virtualBytes: 1384505344,
        startTimeSeconds: 1740960000 + 1234.56,
        openFds: 3,
        maxFds: 1024,
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
