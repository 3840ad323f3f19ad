/**
 * The agent's configuration. The `collectors` section is derived from the registry map in
 * ./collectors/index.ts: each collector's own options plus enabled/intervalSeconds/timeoutSeconds,
 * so an unknown collector name or option is reported with its line.
 */
import { hostname } from 'node:os';
import { type TObject, type TProperties, Type } from '@sinclair/typebox';
import { loadConfigFile, parseConfig, type Refinement, StringEnum } from '../lib/config-file.js';
import { LOG_LEVELS } from '../lib/log.js';
import { collectors } from './collectors/index.js';
import type { CollectorDescriptor } from './collectors/types.js';
import { type ProbesConfig, ProbesSection } from './host-probes.js';

function collectorSchema(d: CollectorDescriptor<never>): TObject {
  return Type.Object(
    {
      enabled: Type.Boolean({ default: true, description: 'Run this collector.' }),
      intervalSeconds: Type.Number({ minimum: 1, maximum: 86_400, default: d.defaultIntervalSeconds }),
      timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: d.defaultTimeoutSeconds }),
      ...(d.options.properties as TProperties),
    },
    { additionalProperties: false, default: {} },
  );
}

const collectorSections: TProperties = {};
for (const [name, descriptor] of Object.entries(collectors)) {
  collectorSections[name] = collectorSchema(descriptor as CollectorDescriptor<never>);
}

export const AgentConfig = Type.Object(
  {
    agent: Type.Object(
      {
        /** The host name the collector labels this agent's metrics with. @defaultValue the machine's host name */
        name: Type.String({
          pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$',
          default: hostname(),
          description:
            'letters, digits, ".", "_" and "-", starting with a letter or digit (it becomes the host label)',
        }),
        /** Where the agent serves /metrics. @defaultValue "127.0.0.1:9471" */
        listen: Type.String({
          pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):\\d{1,5}$',
          default: '127.0.0.1:9471',
          description: 'host:port, e.g. 127.0.0.1:9471 or [::1]:9471',
        }),
        /** The outbox and state live here. */
        dataDir: Type.String({ minLength: 1, default: './data/agent' }),
        procRoot: Type.String({ default: '/proc' }),
        sysRoot: Type.String({ default: '/sys' }),
        rootfs: Type.String({ default: '/' }),
        logLevel: StringEnum(LOG_LEVELS, { default: 'info' }),
      },
      { additionalProperties: false, default: {} },
    ),
    push: Type.Object(
      {
        /** The collector's base URL. Leave empty to only serve /metrics. */
        url: Type.String({ default: '' }),
        /** A file holding this agent's token (from `creditops agent enroll`). */
        tokenFile: Type.Optional(Type.String({ minLength: 1 })),
        /** The environment variable holding the token, when no tokenFile is given. */
        tokenEnv: Type.String({ default: 'CREDITOPS_AGENT_TOKEN' }),
        intervalSeconds: Type.Number({ minimum: 1, maximum: 3600, default: 15 }),
        timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    collectors: Type.Object(collectorSections, { additionalProperties: false, default: {} }),
    /** The host probes (security baseline), derived from the registry in probes/index.ts. */
    probes: ProbesSection,
  },
  { additionalProperties: false },
);

export type AgentConfig = {
  agent: {
    name: string;
    listen: string;
    dataDir: string;
    procRoot: string;
    sysRoot: string;
    rootfs: string;
    logLevel: string;
  };
  push: {
    url: string;
    tokenFile?: string;
    tokenEnv: string;
    intervalSeconds: number;
    timeoutSeconds: number;
  };
  collectors: Record<
    string,
    { enabled: boolean; intervalSeconds: number; timeoutSeconds: number } & Record<string, unknown>
  >;
  probes: ProbesConfig;
};

/** What the schema cannot say: value ranges across keys, URLs that must parse. */
function refineAgentConfig(data: unknown): Refinement[] {
  const config = data as AgentConfig;
  const problems: Refinement[] = [];
  const port = Number(config.agent.listen.slice(config.agent.listen.lastIndexOf(':') + 1));
  if (!(port >= 0 && port <= 65535)) {
    problems.push({ path: ['agent', 'listen'], message: `port ${port} is out of range (0–65535)` });
  }
  if (config.push.url !== '') {
    let url: URL | undefined;
    try {
      url = new URL(config.push.url);
    } catch {
      problems.push({
        path: ['push', 'url'],
        message: `not a URL (got ${JSON.stringify(config.push.url)}); expected e.g. http://127.0.0.1:9470`,
      });
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push({
        path: ['push', 'url'],
        message: `must be an http:// or https:// URL (got ${JSON.stringify(config.push.url)})`,
      });
    }
  }
  for (const [name, section] of Object.entries(config.collectors)) {
    if (section.timeoutSeconds > section.intervalSeconds) {
      problems.push({
        path: ['collectors', name, 'timeoutSeconds'],
        message: `must not exceed collectors.${name}.intervalSeconds (${section.intervalSeconds}): a run would still be going when the next is due`,
      });
    }
  }
  return problems;
}

export function parseAgentConfig(text: string, file: string): AgentConfig {
  return parseConfig(AgentConfig, text, file, refineAgentConfig) as AgentConfig;
}

export function loadAgentConfig(file?: string): AgentConfig {
  return file
    ? (loadConfigFile(AgentConfig, file, refineAgentConfig) as AgentConfig)
    : parseAgentConfig('{}', '(defaults)');
}
