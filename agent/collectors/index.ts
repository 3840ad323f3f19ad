/**
 * The agent's OS collectors, by configuration name. This map is the only list: configuration
 * validation and the daemon derive the allowed names and options from it.
 */
import { backup } from './backup/collector.js';
import { cpu } from './cpu.js';
import { creditData } from './credit-data/collector.js';
import { diskstats } from './diskstats.js';
import { filefd } from './filefd.js';
import { filesystem } from './filesystem.js';
import { load } from './load.js';
import { memory } from './memory.js';
import { netclass } from './netclass.js';
import { netdev } from './netdev.js';
import { postgres } from './postgres/collector.js';
import { processes } from './processes.js';
import { stat } from './stat.js';
import { time } from './time.js';
import { timex } from './timex.js';
import type { CollectorDescriptor } from './types.js';
import { vmstat } from './vmstat.js';

export const collectors = {
  cpu,
  stat,
  memory,
  load,
  filesystem,
  diskstats,
  netdev,
  netclass,
  time,
  timex,
  filefd,
  processes,
  vmstat,
  postgres,
  backup,
  creditdata: creditData,
  // biome-ignore lint/suspicious/noExplicitAny: each descriptor has its own options type
} as const satisfies Record<string, CollectorDescriptor<any>>;
