import { describe, expect, it } from 'vitest';
import { locateJsonError } from './json-error.js';

describe('locateJsonError', () => {
  it.each([
    ['{"a":1,}', 7, 1, 8, 'a double-quoted property name'],
    ['{\n"a": x}', 7, 2, 6, 'a value'],
    ['', 0, 1, 1, 'a value (the body ends early)'],
    ['{"a"', 4, 1, 5, '":" after the property name'],
    ['{"a":"\\u12g4"}', 10, 1, 11, '4 hex digits after \\u'],
    ['[1,2] x', 6, 1, 7, 'the end of the body'],
    ['{"a":"line\nbreak"}', 10, 1, 11, 'no control characters inside a string (escape them)'],
    ['01', 1, 1, 2, 'the end of the body'],
  ])('%j fails at position %i (line %i, column %i)', (text, position, line, column, expected) => {
    expect(locateJsonError(text)).toEqual({ position, line, column, expected });
  });

  it('returns null for valid JSON', () => {
    expect(locateJsonError('{"a":[1,{"b":null}],"c":-1.5e3,"d":"\\"\\u00e9"}')).toBeNull();
    expect(locateJsonError(' true ')).toBeNull();
  });

  it('stops at absurd nesting instead of overflowing the stack', () => {
    expect(locateJsonError('['.repeat(5000))?.expected).toBe('nesting no deeper than 1000');
  });
});
