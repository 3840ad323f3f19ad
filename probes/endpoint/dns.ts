/**
 * DNS resolution probe: the name resolves (through the system resolver, or a given server) to the
 * expected addresses, within the timeout.
 */
import { Resolver } from 'node:dns/promises';
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor } from '../types.js';
import { errorCode, probeRegistry } from './common.js';

interface DnsOptions {
  name: string;
  recordType?: 'A' | 'AAAA';
  /** `ip` or `ip:port` of the server to ask; the system's resolvers when empty. */
  server?: string;
  /** When set, every answer must be one of these. */
  expectAddresses?: string[];
  timeoutSeconds?: number;
}

export const dnsResolution: ProbeDescriptor<DnsOptions> = {
  id: 'endpoint.dns',
  category: 'endpoint',
  title: '域名解析正常',
  remediation:
    '检查域名解析记录（A/AAAA）是否存在且指向正确地址，检查 DNS 服务器是否可用；解析到意外地址可能是劫持或记录被篡改。',
  options: Type.Object({
    name: Type.String({ minLength: 1 }),
    recordType: Type.Union([Type.Literal('A'), Type.Literal('AAAA')], { default: 'A' }),
    server: Type.Optional(Type.String({ minLength: 1 })),
    expectAddresses: Type.Optional(Type.Array(Type.String())),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 60, default: 5 }),
  }),
  async run({ options }) {
    const started = performance.now();
    const registry = probeRegistry();
    const resolver = new Resolver({ timeout: (options.timeoutSeconds ?? 5) * 1000, tries: 1 });
    if (options.server) resolver.setServers([options.server]);
    const type = options.recordType ?? 'A';
    let answers: string[] = [];
    let error: string | undefined;
    try {
      answers = type === 'A' ? await resolver.resolve4(options.name) : await resolver.resolve6(options.name);
    } catch (e) {
      error = errorCode(e);
    }
    const seconds = (performance.now() - started) / 1000;
    registry
      .gauge('probe_dns_lookup_time_seconds', 'Returns the time taken for probe dns lookup in seconds')
      .value(seconds);
    registry
      .gauge('probe_dns_answer_rrs', 'Returns number of entries in the answer resource record list')
      .value(answers.length);
    const unexpected = options.expectAddresses
      ? answers.filter((a) => !options.expectAddresses!.includes(a))
      : [];
    const ok = !error && answers.length > 0 && unexpected.length === 0;
    registry.gauge('probe_success', 'Displays whether or not the probe was a success').value(ok ? 1 : 0);
    registry
      .gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds')
      .value(seconds);
    const summary = error
      ? `${options.name} 解析失败：${error}`
      : answers.length === 0
        ? `${options.name} 没有 ${type} 记录`
        : unexpected.length > 0
          ? `${options.name} 解析到意外地址：${unexpected.join('、')}`
          : `${options.name} 解析为 ${answers.join('、')}`;
    return [
      {
        status: ok ? 'OK' : 'CRIT',
        target: options.name,
        summary,
        details: { type, answers, error: error ?? null, server: options.server ?? null },
        metrics: registry.collect(),
      },
    ];
  },
};
