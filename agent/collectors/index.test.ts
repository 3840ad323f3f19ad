import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { collectors } from './index.js';

describe('collector registry', () => {
  it.each(Object.entries(collectors))(
    '%s: key matches its name, defaults satisfy its own schema',
    (key, descriptor) => {
      expect(descriptor.name).toBe(key);
      expect(key).toMatch(/^[a-z][a-z0-9]*$/);
      expect(descriptor.defaultTimeoutSeconds).toBeLessThanOrEqual(descriptor.defaultIntervalSeconds);
      const options = Value.Default(descriptor.options, {});
      expect(Value.Errors(descriptor.options, options).First()).toBeUndefined();
    },
  );

  it('filesystem waits for statfs less than its own timeout, so a hung mount never fails the run', () => {
    const options = Value.Default(collectors.filesystem.options, {}) as { statfsTimeoutSeconds: number };
    expect(options.statfsTimeoutSeconds).toBeLessThan(collectors.filesystem.defaultTimeoutSeconds);
  });
});
