/**
 * Where a JSON text goes wrong. JSON.parse in Node 20 names the position for some errors only
 * ("Unexpected token 'x', ... is not valid JSON" has none), and an agent author needs it; this
 * scanner runs only after JSON.parse has failed, to find the first offending character.
 */

export interface JsonErrorLocation {
  /** Offset in characters from the start of the text. */
  position: number;
  line: number;
  column: number;
  expected: string;
}

const MAX_DEPTH = 1000;

class Stop {
  constructor(
    readonly position: number,
    readonly expected: string,
  ) {}
}

/** The location of the first syntax error, or null when the text is valid JSON. */
export function locateJsonError(text: string): JsonErrorLocation | null {
  let i = 0;
  const fail = (expected: string): never => {
    throw new Stop(i, expected);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t'))
      i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`"${word}"`);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail('a closing double quote');
      if (ch === '"') {
        i++;
        return;
      }
      if (ch! < ' ') fail('no control characters inside a string (escape them)');
      if (ch === '\\') {
        i++;
        const esc = text[i];
        if (esc === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++)
            if (!/[0-9a-fA-F]/.test(text[i] ?? '')) fail('4 hex digits after \\u');
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc))
          fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        i++;
        continue;
      }
      i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('a number');
    i += m![0].length;
  };
  const value = (depth: number) => {
    if (depth > MAX_DEPTH) fail(`nesting no deeper than ${MAX_DEPTH}`);
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a double-quoted property name');
        string();
        ws();
        if (text[i] !== ':') fail('":" after the property name');
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail('"," or "}"');
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail('"," or "]"');
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number();
    fail(ch === undefined ? 'a value (the body ends early)' : 'a value');
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail('the end of the body');
    return null;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    const before = text.slice(0, e.position);
    const line = before.split('\n').length;
    const column = e.position - before.lastIndexOf('\n');
    return { position: e.position, line, column, expected: e.expected };
  }
}
