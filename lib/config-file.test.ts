import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config-file.js';

const Schema = Type.Object(
  {
    server: Type.Object(
      {
        listen: Type.String({ default: '127.0.0.1:1' }),
        level: Type.Union([Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
        timeoutSeconds: Type.Number({ default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

function diagnostics(text: string) {
  try {
    parseConfig(Schema, text, 'x.yaml');
  } catch (error) {
    if (error instanceof ConfigError)
      return error.diagnostics.map((d) => `${d.line}:${d.column} ${d.key}: ${d.message}`);
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('fills defaults, nested ones included', () => {
    expect(parseConfig(Schema, '', 'x.yaml')).toEqual({
      server: { listen: '127.0.0.1:1', level: 'info', timeoutSeconds: 5 },
    });
    expect(parseConfig(Schema, 'server:\n  timeoutSeconds: 9\n', 'x.yaml').server).toEqual({
      listen: '127.0.0.1:1',
      level: 'info',
      timeoutSeconds: 9,
    });
  });

  it('reports every problem with its line, key and expectation', () => {
    expect(diagnostics('server:\n  timeoutSeconds: fast\n  levle: debug\n')).toEqual([
      '2:19 server.timeoutSeconds: must be number (got "fast")',
      '3:3 server.levle: unknown key (check the spelling; see the configuration reference)',
    ]);
  });

  it('reports a YAML syntax error with its position', () => {
    const [d] = diagnostics('server:\n  listen: [unclosed\n');
    expect(d).toMatch(/^\d+:\d+ : YAML syntax/);
  });

  it('says what a union expects', () => {
    expect(diagnostics('server:\n  level: loud\n')[0]).toMatch(/^2:10 server.level: /);
  });
});
