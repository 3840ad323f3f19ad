/**
 * Tickets, notifications and maintenance windows, wired together and decorated onto the app as
 * `app.ticketing`. Background work (check evaluation, deadline sweep, escalation, outbox
 * retries, metric refresh) runs every `collector.ticketSweepSeconds`; tests set 0 and call
 * `tick()` with a moved clock instead.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WorkingDayCalendar } from '../../lib/calendar/index.js';
import { MaintenanceCalendar } from '../maintenance/windows.js';
import { createChannel } from '../notify/channels/index.js';
import type { Channel, ChannelDeps } from '../notify/channels/types.js';
import { Notifier } from '../notify/notifier.js';
import { Outbox } from '../notify/outbox.js';
import { loadNotificationPolicy, type NotificationPolicy } from '../notify/policy.js';
import { COLLECTOR_STATE_PLUGIN } from '../plugins/collector-state.js';
import { sharedPlugin } from '../plugins/shared-plugin.js';
import { CheckEvaluator } from './check-evaluator.js';
import { TicketMetrics } from './metrics.js';
import { loadTicketPolicy, type TicketPolicy } from './policy.js';
import { TicketService } from './service.js';

export interface TicketingOptions extends Record<string, unknown> {
  ticketPolicy?: TicketPolicy;
  notificationPolicy?: NotificationPolicy;
  /** Channel instances by name; by default created from the notification policy. */
  channels?: Map<string, Channel>;
  /** What channels created from the policy may use (fetch, env…). */
  channelDeps?: Partial<ChannelDeps>;
}

export interface Ticketing {
  service: TicketService;
  evaluator: CheckEvaluator;
  outbox: Outbox;
  notifier: Notifier;
  maintenance: MaintenanceCalendar;
  metrics: TicketMetrics;
  calendar: WorkingDayCalendar;
  ticketPolicy: TicketPolicy;
  notificationPolicy: NotificationPolicy;
  publicUrl: string;
  /** One round of background work; resolves when done. */
  tick(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    ticketing: Ticketing;
  }
}

export const TICKETING_PLUGIN = 'creditops-ticketing';

export const ticketingPlugin = sharedPlugin<TicketingOptions>(
  TICKETING_PLUGIN,
  [COLLECTOR_STATE_PLUGIN],
  async (app: FastifyInstance, options) => {
    const { config, store, now, metrics: ownMetrics } = app.collector;
    const log = app.log.child({ component: 'tickets' }) as unknown as Logger;
    const ticketPolicy = options.ticketPolicy ?? loadTicketPolicy(config.ticketPolicyFile);
    const notificationPolicy =
      options.notificationPolicy ?? loadNotificationPolicy(config.notificationPolicyFile);
    const calendar = new WorkingDayCalendar({
      timeZone: ticketPolicy.calendar.timeZone,
      ...(ticketPolicy.calendar.overrides ? { overrides: ticketPolicy.calendar.overrides } : {}),
    });
    const channels =
      options.channels ??
      new Map(
        Object.entries(notificationPolicy.channels).map(([name, c]) => [
          name,
          createChannel(c, { log: log.child({ channel: name }), now, ...options.channelDeps }),
        ]),
      );
    const publicUrl = config.publicUrl ?? `http://${config.listen}`;
    const maintenance = new MaintenanceCalendar(store, now);
    const service = new TicketService({ store, policy: ticketPolicy, calendar, now, log });
    const outbox = new Outbox({
      store,
      policy: notificationPolicy.outbox,
      channels,
      now,
      log: log.child({ component: 'outbox' }),
      timeline: async (trx, ticketId, type, message, data) => {
        await service.event(trx, { id: ticketId }, type, 'outbox', message, data);
      },
    });
    const notifier = new Notifier({
      policy: notificationPolicy,
      outbox,
      maintenance,
      tickets: service,
      publicUrl,
      now,
      log,
    });
    service.hooks = notifier.hooks();
    const evaluator = new CheckEvaluator(service, maintenance, ticketPolicy.checks, log);
    const metrics = new TicketMetrics();
    ownMetrics.sources.push(() => metrics.lines());

    let lastCalendarWarning = '';
    const tick = async () => {
      await evaluator.evaluate();
      await service.sweepDeadlines();
      await notifier.escalate();
      await outbox.drain();
      const warning = calendar.missingNextYearWarning(new Date(now()));
      metrics.calendarMissing = warning ? 1 : 0;
      if (warning && warning !== lastCalendarWarning) log.warn({ warning }, 'holiday data missing');
      lastCalendarWarning = warning ?? '';
      await metrics.refresh(service.db);
    };

    app.decorate('ticketing', {
      service,
      evaluator,
      outbox,
      notifier,
      maintenance,
      metrics,
      calendar,
      ticketPolicy,
      notificationPolicy,
      publicUrl,
      tick,
    } satisfies Ticketing);

    let timer: NodeJS.Timeout | null = null;
    let running: Promise<void> | null = null;
    const intervalMs = config.ticketSweepSeconds * 1000;
    app.addHook('onReady', async () => {
      await metrics.refresh(service.db);
      if (intervalMs <= 0) return;
      outbox.start(Math.min(intervalMs, 5000));
      const loop = () => {
        timer = setTimeout(() => {
          running = tick()
            .catch((error) => log.error({ err: error }, 'ticket sweep failed'))
            .finally(() => {
              running = null;
              if (timer) loop();
            });
        }, intervalMs);
        timer.unref();
      };
      loop();
    });
    app.addHook('onClose', async () => {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
      await outbox.stop();
      for (const channel of channels.values()) await channel.close?.();
    });
  },
);
