/**
 * `collector.inspection`: the daily inspection (日常巡检).
 *
 * ```yaml
 * collector:
 *   inspection:
 *     dailyAt: "08:30"          # local time, utcOffsetMinutes from UTC (China: 480)
 *     hosts:
 *       - name: web1            # an enrolled agent: compiled from what it reported
 *       - name: db2             # no agent: inspected over SSH
 *         ssh: { host: 10.0.0.12, username: ops, privateKeyPath: /etc/creditops/id_ed25519, knownHostsPath: /etc/creditops/known_hosts }
 * ```
 */
import { Type } from '@sinclair/typebox';

export interface SshTargetConfig {
  host: string;
  port?: number;
  username: string;
  privateKeyPath: string;
  knownHostsPath: string;
}

export interface InspectionHostConfig {
  name: string;
  ssh?: SshTargetConfig;
}

export interface InspectionConfig {
  enabled: boolean;
  dailyAt: string;
  utcOffsetMinutes: number;
  /** Agent results older than this are reported as stale evidence. */
  maxResultAgeHours: number;
  timeoutSeconds: number;
  /** Hosts to inspect besides every enrolled agent. */
  hosts: InspectionHostConfig[];
}

export const InspectionSection = Type.Unsafe<InspectionConfig>(
  Type.Object(
    {
      /** @defaultValue true */
      enabled: Type.Boolean({ default: true }),
      /** Local time of day, HH:MM. @defaultValue "08:30" */
      dailyAt: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '08:30' }),
      /** The local time zone as minutes east of UTC. @defaultValue 480 (China Standard Time) */
      utcOffsetMinutes: Type.Integer({ minimum: -720, maximum: 840, default: 480 }),
      /** @defaultValue 26 */
      maxResultAgeHours: Type.Number({ exclusiveMinimum: 0, default: 26 }),
      /** Per host. @defaultValue 600 */
      timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 600 }),
      hosts: Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$' }),
            ssh: Type.Optional(
              Type.Object(
                {
                  host: Type.String({ minLength: 1 }),
                  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
                  username: Type.String({ minLength: 1 }),
                  privateKeyPath: Type.String({ minLength: 1 }),
                  knownHostsPath: Type.String({ minLength: 1 }),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        { default: [] },
      ),
    },
    { additionalProperties: false, default: {} },
  ),
);
