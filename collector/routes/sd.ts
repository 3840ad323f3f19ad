/**
 * GET /api/v1/sd: Prometheus HTTP service discovery of the agents, for fleets large enough that
 * Prometheus should scrape each agent itself rather than the collector's merged /metrics.
 *
 * The push protocol has no field for the agent's own scrape address, so an agent advertises it in
 * its inventory (which allows extra properties) as `metricsAddress`: either `host:port` or a URL
 * (`https://10.0.0.5:9471/metrics`). An agent listening on all interfaces (`0.0.0.0:9471`) is
 * listed at the address its last push came from. Agents without it are not listed.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { type Agent, listAgents } from '../store/agents.js';

export const SdTargetGroup = Type.Object({
  targets: Type.Array(Type.String()),
  labels: Type.Record(Type.String(), Type.String()),
});

export interface SdTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);

function bracketIfIpv6(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The target group of one agent, or null when it advertises no usable scrape address. */
export function targetGroupOf(agent: Agent): SdTargetGroup | null {
  const advertised = agent.inventory?.metricsAddress;
  if (typeof advertised !== 'string' || advertised === '') return null;
  const labels: Record<string, string> = { __meta_creditops_agent_name: agent.name, host: agent.name };
  let host: string;
  let port: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(advertised)) {
    let url: URL;
    try {
      url = new URL(advertised);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    host = url.hostname;
    port = url.port || (url.protocol === 'https:' ? '443' : '80');
    labels.__scheme__ = url.protocol.slice(0, -1);
    if (url.pathname !== '/' && url.pathname !== '') labels.__metrics_path__ = url.pathname;
  } else {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):(\d{1,5})$/.exec(advertised);
    if (!m) return null;
    host = m[1]!;
    port = m[2]!;
  }
  if (WILDCARD_HOSTS.has(host)) {
    if (!agent.lastAddress) return null;
    host = agent.lastAddress.replace(/^::ffff:/, '');
  }
  return { targets: [`${bracketIfIpv6(host)}:${port}`], labels };
}

export default async function sdRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.collector;
  app.get(
    '/api/v1/sd',
    {
      schema: { response: { 200: Type.Array(SdTargetGroup) } },
    },
    async () => {
      const agents = await listAgents(store);
      return agents.map(targetGroupOf).filter((g): g is SdTargetGroup => g !== null);
    },
  );
}
