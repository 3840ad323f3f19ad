import { describe, expect, it } from 'vitest';
import { parseCpuTimes } from './cpu.js';
import { parseDiskstats } from './diskstats.js';
import { parseFileNr } from './filefd.js';
import { decodeMountField, dedupeMounts, parseMountInfo } from './filesystem.js';
import { parseLoadavg } from './load.js';
import { parseMeminfo } from './memory.js';
import { parseNetDev } from './netdev.js';
import { words } from './proc-text.js';
import { parsePidStat } from './processes.js';
import { parseKernelStat } from './stat.js';
import { parseUptime } from './time.js';

describe('parseCpuTimes', () => {
  it('reads per-CPU lines in USER_HZ, skipping the aggregate line', () => {
    const times = parseCpuTimes(
      'cpu  200 0 100 1000 0 0 0 0 0 0\ncpu0 150 2 50 500 3 0 1 0 20 1\ncpu1 50 0 50 500\nintr 1 2\n',
    );
    expect(times).toEqual([
      { cpu: '0', seconds: [1.5, 0.02, 0.5, 5, 0.03, 0, 0.01, 0], guest: 0.2, guestNice: 0.01 },
      // An old kernel without steal/guest columns: they count as zero.
      { cpu: '1', seconds: [0.5, 0, 0.5, 5, 0, 0, 0, 0], guest: 0, guestNice: 0 },
    ]);
  });
});

describe('parseKernelStat', () => {
  it('takes the first number of each system-wide line, also of the long intr line', () => {
    const s = parseKernelStat(
      'cpu  1 2 3\nintr 99 1 2 3 4\nctxt 5\nbtime 1700000000\nprocesses 7\nprocs_running 2\nprocs_blocked 0\n',
    );
    expect(s).toEqual({
      interrupts: 99,
      contextSwitches: 5,
      bootTime: 1700000000,
      forks: 7,
      procsRunning: 2,
      procsBlocked: 0,
    });
  });
});

describe('parseMeminfo', () => {
  it('names fields as node_exporter does: kB to _bytes, parentheses to underscores, bare counts as is', () => {
    expect(
      parseMeminfo(
        'MemTotal:  100 kB\nActive(anon):  2 kB\nNFS_Unstable: 0 kB\nHugePages_Total:  4\nHugepagesize: 2048 kB\n',
      ),
    ).toEqual([
      { name: 'MemTotal_bytes', value: 102400 },
      { name: 'Active_anon_bytes', value: 2048 },
      { name: 'NFS_Unstable_bytes', value: 0 },
      { name: 'HugePages_Total', value: 4 },
      { name: 'Hugepagesize_bytes', value: 2097152 },
    ]);
  });
});

describe('parseLoadavg, parseFileNr, parseUptime', () => {
  it('reads the numbers', () => {
    expect(parseLoadavg('0.52 0.58 0.59 2/1161 21504\n')).toEqual([0.52, 0.58, 0.59]);
    expect(parseFileNr('1152\t0\t1628800\n')).toEqual({ allocated: 1152, maximum: 1628800 });
    expect(parseUptime('12345.67 45678.90\n')).toBe(12345.67);
  });
  it('rejects garbage with the content in the message', () => {
    expect(() => parseLoadavg('')).toThrow(/loadavg/);
    expect(() => parseFileNr('x')).toThrow(/file-nr/);
  });
});

describe('mountinfo', () => {
  it('decodes the octal escapes of space, tab, newline and backslash', () => {
    expect(decodeMountField('/mnt/a\\040b\\011c\\012d\\134e')).toBe('/mnt/a b\tc\nd\\e');
    expect(decodeMountField('/plain')).toBe('/plain');
  });

  it('reads fields around a variable number of optional fields', () => {
    const mounts = parseMountInfo(
      [
        '36 35 98:0 /mnt1 /mnt/two\\040words rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue',
        '37 35 0:3 / /ro ro,relatime - tmpfs my\\040tmp rw',
        '38 35 0:4 / /emergency rw - ext4 /dev/sdz emergency_ro',
        'garbage line',
      ].join('\n'),
    );
    expect(mounts).toEqual([
      {
        mountPoint: '/mnt/two words',
        device: '/dev/root',
        fsType: 'ext3',
        major: '98',
        minor: '0',
        readOnly: false,
      },
      { mountPoint: '/ro', device: 'my tmp', fsType: 'tmpfs', major: '0', minor: '3', readOnly: true },
      {
        mountPoint: '/emergency',
        device: '/dev/sdz',
        fsType: 'ext4',
        major: '0',
        minor: '4',
        readOnly: true,
      },
    ]);
  });

  it('keeps the last mount of a mount point listed twice', () => {
    const mounts = dedupeMounts(
      parseMountInfo(
        '1 0 8:1 / /data rw - ext4 /dev/sda1 rw\n2 0 8:2 / /other rw - ext4 /dev/sdb rw\n3 1 8:3 / /data rw - xfs /dev/sdc rw\n',
      ),
    );
    expect(mounts.map((m) => [m.mountPoint, m.device])).toEqual([
      ['/other', '/dev/sdb'],
      ['/data', '/dev/sdc'],
    ]);
  });
});

describe('parseDiskstats', () => {
  it('keeps as many columns as the kernel printed', () => {
    const disks = parseDiskstats(
      '   8  0 sda 1 2 3 4 5 6 7 8 9 10 11\n 253 0 dm-0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\nshort line\n',
    );
    expect(disks.map((d) => [d.device, d.values.length])).toEqual([
      ['sda', 11],
      ['dm-0', 17],
    ]);
  });
});

describe('parseNetDev', () => {
  const header = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n';
  const cols = (n: number) => Array.from({ length: 16 }, (_, i) => n + i).join(' ');

  it('handles a name glued to its first counter, dots and non-ASCII names', () => {
    const { devices, malformed } = parseNetDev(
      `${header}  eth0:${cols(1)}\nflannel.1: ${cols(10)}\nbr-ü.10: ${cols(20)}\n`,
    );
    expect(malformed).toEqual([]);
    expect(devices.map((d) => [d.device, d.values[0], d.values[15]])).toEqual([
      ['eth0', 1, 16],
      ['flannel.1', 10, 25],
      ['br-ü.10', 20, 35],
    ]);
  });

  it('skips a malformed line with its reason and keeps the others', () => {
    const { devices, malformed } = parseNetDev(
      `${header}bad0: 1 2 3\nnocolon 1 2\neth1: ${cols(1).replace('16', 'x')}\nlo: ${cols(0)}\n`,
    );
    expect(devices.map((d) => d.device)).toEqual(['lo']);
    expect(malformed.map((m) => m.reason)).toEqual([
      'expected 16 numbers, got 3',
      'no ":" after the interface name',
      'a column is not a number',
    ]);
  });
});

describe('parsePidStat', () => {
  it('counts fields from the last parenthesis, whatever the command name holds', () => {
    expect(
      parsePidStat('4242 (we ird) D name) R 1 4242 4242 0 -1 4194624 290 0 0 0 0 3 0 0 20 0 12 0 1283'),
    ).toEqual({
      state: 'R',
      threads: 12,
    });
    expect(parsePidStat('garbage')).toBeUndefined();
  });
});

describe('words', () => {
  it('splits on runs of spaces and tabs', () => {
    expect(words('  a  b\tc ')).toEqual(['a', 'b', 'c']);
    expect(words('')).toEqual([]);
  });
});
