/**
 * Runs the daily inspection at the configured local time, for every enrolled agent and every
 * configured SSH host, and stores one report per host per day. The clock is injected: `tick()`
 * decides from `now()` alone, so a test moves the clock and calls it.
 */
import type { Logger } from 'pino';
import { SshHost } from '../../probes/hosts/ssh-host.js';
import type { SourceResult } from '../probes/source.js';
import { listAgents } from '../store/agents.js';
import type { Store } from '../store/store.js';
import type { InspectionConfig, InspectionHostConfig } from './config.js';
import {
  compileAgentInspection,
  type InspectionCheck,
  type InspectionReport,
  inspectHost,
  listReports,
  localDay,
  storeReport,
  summarise,
} from './report.js';

/** The first instant at or after `now` whose local time of day is `dailyAt`. */
export function nextDailyRun(now: number, dailyAt: string, utcOffsetMinutes: number): number {
  const [h, m] = dailyAt.split(':').map(Number) as [number, number];
  const offset = utcOffsetMinutes * 60_000;
  const local = new Date(now + offset);
  let due = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), h, m) - offset;
  if (due < now) due += 86_400_000;
  return due;
}

export type Progress = (event: {
  host: string;
  index: number;
  total: number;
  done?: InspectionReport;
}) => void;

export class InspectionScheduler {
  private timer: NodeJS.Timeout | undefined;
  private lastDay: string | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly options: {
      store: Store;
      config: InspectionConfig;
      sourceName: string;
      now: () => number;
      log: Logger;
      /**
       * Where the results of hosts inspected over SSH also go as check results (the collector's
       * source), so they reach tickets and creditops_check_status like an agent's.
       */
      record?: (unit: string, results: SourceResult[]) => Promise<unknown>;
    },
  ) {}

  /** Every enrolled agent (but the collector's own source) and every configured host. */
  async hosts(): Promise<InspectionHostConfig[]> {
    const configured = new Map(this.options.config.hosts.map((h) => [h.name, h]));
    for (const a of await listAgents(this.options.store)) {
      if (a.name !== this.options.sourceName && !configured.has(a.name))
        configured.set(a.name, { name: a.name });
    }
    return [...configured.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async inspect(
    target: InspectionHostConfig,
    trigger: InspectionReport['trigger'],
  ): Promise<InspectionReport> {
    const { store, config, now } = this.options;
    const started = now();
    let checks: InspectionCheck[];
    if (target.ssh) {
      checks = await this.overSsh(target);
      await this.options.record?.(
        `ssh\u0000${target.name}`,
        checks.map((c) => ({
          check: c.check,
          // The inventory keeps the bare host name: account drift looks it up by that.
          target:
            c.check === 'accounts.inventory' || c.target === null
              ? target.name
              : `${target.name}:${c.target}`,
          status: c.status,
          summary: `${target.name}：${c.summary}`,
          ...(c.details ? { details: c.details } : {}),
        })),
      );
    } else {
      checks = (await compileAgentInspection(store, target.name, {
        now: started,
        maxResultAgeHours: config.maxResultAgeHours,
        sourceName: this.options.sourceName,
      })) ?? [
        {
          check: 'inspection.host',
          title: '巡检对象',
          target: target.name,
          status: 'UNKNOWN',
          summary: `主机 ${target.name} 既未注册代理，也未配置 SSH，无法巡检`,
          clause: null,
          remediation: '为该主机安装并注册代理，或在 collector.inspection.hosts 中配置 SSH。',
          observedAt: new Date(started).toISOString(),
          details: null,
        },
      ];
    }
    return storeReport(store, {
      host: target.name,
      day: localDay(started, config.utcOffsetMinutes),
      trigger,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(now()).toISOString(),
      ...summarise(checks),
      checks,
    });
  }

  private async overSsh(target: InspectionHostConfig): Promise<InspectionCheck[]> {
    const ssh = target.ssh!;
    let host: SshHost;
    try {
      host = await SshHost.connect(ssh);
    } catch (error) {
      return [
        {
          check: 'inspection.ssh',
          title: '通过 SSH 巡检',
          target: target.name,
          status: 'CRIT',
          summary: `无法通过 SSH 连接 ${target.name}：${(error as Error).message}`,
          clause: null,
          remediation: '检查 SSH 服务、巡检账户的密钥授权，以及 known_hosts 中登记的主机密钥。',
          observedAt: new Date(this.options.now()).toISOString(),
          details: null,
        },
      ];
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.config.timeoutSeconds * 1000);
    try {
      return await inspectHost(host, { now: this.options.now, signal: controller.signal });
    } finally {
      clearTimeout(timer);
      host.dispose();
    }
  }

  async runAll(
    trigger: InspectionReport['trigger'],
    names?: string[],
    progress?: Progress,
  ): Promise<InspectionReport[]> {
    const all = await this.hosts();
    const chosen = names?.length ? names.map((n) => all.find((h) => h.name === n) ?? { name: n }) : all;
    const reports: InspectionReport[] = [];
    for (const [index, target] of chosen.entries()) {
      progress?.({ host: target.name, index, total: chosen.length });
      const report = await this.inspect(target, trigger);
      reports.push(report);
      progress?.({ host: target.name, index, total: chosen.length, done: report });
    }
    return reports;
  }

  /** Runs the day's inspection once the configured time has passed and it has not run today. */
  async tick(): Promise<InspectionReport[]> {
    const { config, now, store } = this.options;
    if (!config.enabled || this.running) return [];
    const t = now();
    const day = localDay(t, config.utcOffsetMinutes);
    if (this.lastDay === day) return [];
    const [h, m] = config.dailyAt.split(':').map(Number) as [number, number];
    const localMinutes = Math.floor(((t + config.utcOffsetMinutes * 60_000) % 86_400_000) / 60_000);
    if (localMinutes < h * 60 + m) return [];
    // After a restart later the same day, the reports already stored stand.
    const stored = await listReports(store, { day });
    if (stored.some((r) => r.trigger === 'schedule')) {
      this.lastDay = day;
      return [];
    }
    this.lastDay = day;
    const run = this.runAll('schedule');
    this.running = run;
    try {
      const reports = await run;
      this.options.log.info({ day, hosts: reports.length }, 'daily inspection stored');
      return reports;
    } finally {
      this.running = undefined;
    }
  }

  start(pollMs = 30_000): void {
    this.timer = setInterval(() => {
      this.tick().catch((err: Error) => this.options.log.error({ err }, 'daily inspection failed'));
    }, pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
