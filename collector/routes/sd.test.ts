import { describe, expect, it } from 'vitest';
import type { Agent } from '../store/agents.js';
import { targetGroupOf } from './sd.js';

function agent(metricsAddress: unknown, lastAddress: string | null = '10.1.2.3'): Agent {
  return {
    id: 'x',
    name: 'web-01',
    createdAt: '2025-03-03T08:00:00.000Z',
    lastSeenAt: null,
    lastAddress,
    intervalSeconds: 15,
    inventory: { hostname: 'web-01', collectedAt: '2025-03-03T08:00:00Z', metricsAddress },
  };
}

const base = { __meta_creditops_agent_name: 'web-01', host: 'web-01' };

describe('targetGroupOf', () => {
  it.each([
    ['10.0.0.5:9471', ['10.0.0.5:9471'], base],
    ['[fd00::5]:9471', ['[fd00::5]:9471'], base],
    ['web-01.example:9471', ['web-01.example:9471'], base],
    ['0.0.0.0:9471', ['10.1.2.3:9471'], base],
    [
      'http://10.0.0.5:9471/metrics',
      ['10.0.0.5:9471'],
      { ...base, __scheme__: 'http', __metrics_path__: '/metrics' },
    ],
    ['https://web-01.example/', ['web-01.example:443'], { ...base, __scheme__: 'https' }],
  ])('%s → %j', (address, targets, labels) => {
    expect(targetGroupOf(agent(address))).toEqual({ targets, labels });
  });

  it('lists a wildcard listener at its IPv6 push address', () => {
    expect(targetGroupOf(agent('[::]:9471', '::ffff:10.9.9.9'))?.targets).toEqual(['10.9.9.9:9471']);
    expect(targetGroupOf(agent('[::]:9471', 'fd00::9'))?.targets).toEqual(['[fd00::9]:9471']);
  });

  it.each([[undefined], [''], [42], ['no-port'], ['ftp://x:21/'], ['http://[bad']])(
    'leaves out %j',
    (address) => {
      expect(targetGroupOf(agent(address))).toBeNull();
    },
  );

  it('leaves out a wildcard listener that never pushed', () => {
    expect(targetGroupOf(agent('0.0.0.0:9471', null))).toBeNull();
  });
});
