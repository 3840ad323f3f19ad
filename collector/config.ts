/**
 * The collector's configuration file (YAML), validated with a schema so every mistake is reported
 * at once with its file, line and key.
 *
 * ```yaml
 * collector:
 *   listen: 127.0.0.1:9470
 *   dataDir: /var/lib/creditops/collector
 * ```
 */
import { type Static, Type } from '@sinclair/typebox';
import { loadConfigFile, parseConfig } from '../lib/config-file.js';
import { InspectionSection } from './inspection/config.js';
import { CollectorProbesSection } from './probes/config.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CollectorSection = Type.Object(
  {
    /**
     * Address to listen on, `host:port` (IPv6 in brackets: `[::1]:9470`). Loopback by default: put
     * a TLS-terminating reverse proxy in front before exposing the collector.
     * @defaultValue "127.0.0.1:9470"
     */
    listen: Type.String({
      default: '127.0.0.1:9470',
      pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s\\[\\]]+):[0-9]{1,5}$',
      description: 'host:port, e.g. 127.0.0.1:9470 or [::1]:9470',
    }),
    /**
     * Directory of the embedded SQLite store; created if missing.
     * @defaultValue "./data/collector"
     */
    dataDir: Type.String({ default: './data/collector', minLength: 1 }),
    /**
     * Largest accepted push body, in bytes. A fleet member with many file systems and databases
     * produces well under 1 MiB per push.
     * @defaultValue 8388608 (8 MiB)
     */
    bodyLimitBytes: Type.Integer({ default: 8 * 1024 * 1024, minimum: 1024, maximum: 1024 * 1024 * 1024 }),
    /**
     * An agent silent for this many of its own push intervals is reported down
     * (`creditops_agent_up 0`) and its metric families leave the exposition.
     * @defaultValue 3
     */
    staleAfterIntervals: Type.Number({ default: 3, minimum: 1, maximum: 1000 }),
    /** @defaultValue "info" */
    // An enum rather than a union of literals, so a typo is reported as "must be one of …".
    logLevel: Type.Unsafe<LogLevel>({ type: 'string', enum: [...LOG_LEVELS], default: 'info' }),
    /**
     * The URL agents and people use to reach the collector (behind a reverse proxy, say), used in
     * links and messages instead of the listen address.
     * @example "https://ops.credit.example.gov.cn/collector"
     */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://\\S+$' })),
    /**
     * File holding the bearer token Alertmanager sends to POST /api/v1/alertmanager/webhook (the
     * `credentials_file` of deploy/alertmanager.yml; deploy/run.sh creates it). While the file is
     * missing or empty the webhook refuses every call (503) and says so.
     * @defaultValue "./data/alertmanager-webhook.token"
     */
    alertmanagerTokenFile: Type.String({ default: './data/alertmanager-webhook.token', minLength: 1 }),
    /**
     * Ticket policy (YAML): deadlines per kind and severity, working-day calendar, check evaluator;
     * see collector/tickets/policy.ts. Embedded defaults (the contract's) when omitted.
     * @example "/etc/creditops/ticket-policy.yaml"
     */
    ticketPolicyFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Notification policy (YAML): channels, routes, quiet hours, escalation, outbox retries; see
     * collector/notify/policy.ts. Without it tickets are opened but nobody is notified.
     * @example "/etc/creditops/notification-policy.yaml"
     */
    notificationPolicyFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * How often the collector evaluates new check results, sweeps ticket deadlines, escalates and
     * retries notifications, in seconds. 0 turns the background work off (tests drive it).
     * @defaultValue 10
     */
    ticketSweepSeconds: Type.Number({ default: 10, minimum: 0, maximum: 3600 }),
    /** Endpoint probes run from the centre (see collector/probes/config.ts). */
    probes: CollectorProbesSection,
    /** The daily inspection (see collector/inspection/config.ts). */
    inspection: InspectionSection,
  },
  { additionalProperties: false, default: {} },
);

export const CollectorConfig = Type.Object(
  { collector: CollectorSection },
  { additionalProperties: false, default: {} },
);
export type CollectorConfig = Static<typeof CollectorConfig>;

/**
 * Loads and validates the collector's configuration. Without a file every key takes its default.
 * Throws a ConfigError naming the file, line and key of each problem.
 */
export function loadCollectorConfig(file?: string): CollectorConfig {
  if (file === undefined) return parseConfig(CollectorConfig, '{}', '(defaults)');
  return loadConfigFile(CollectorConfig, file);
}

/** Validates configuration text (for `creditops check-config`); throws a ConfigError. */
export function parseCollectorConfig(text: string, file: string): CollectorConfig {
  return parseConfig(CollectorConfig, text, file);
}
