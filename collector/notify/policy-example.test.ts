import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNotificationPolicy } from './policy.js';

describe('examples/notify.yaml', () => {
  it('is a valid policy that groups storms and escalates P1', () => {
    const policy = loadNotificationPolicy(join(import.meta.dirname, '../../examples/notify.yaml'));
    expect(policy.outbox.groupWindowSeconds).toBe(30);
    expect(policy.routes[0]?.escalation.map((s) => s.afterMinutes)).toEqual([15, 30]);
    expect(Object.keys(policy.channels).sort()).toEqual(['dingtalk-ops', 'mail', 'sms', 'wecom-ops']);
  });
});
