/**
 * YAML configuration validated against a TypeBox schema. Every problem is reported at once, each
 * with the file, the line and the key, and what was expected, e.g.
 *
 *   agent.yaml:12:5 collectors.filesystem.statfsTimeoutSeconds: must be number (got "fast")
 */
import { readFileSync } from 'node:fs';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { isRegularExpression } from './formats.js';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.key || '(top level)'}: ${d.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes: false, verbose: true });
ajv.addFormat('regex', { type: 'string', validate: isRegularExpression });

/**
 * A string that must be one of `values`. Unlike a union of literals, a wrong value is reported as
 * one error listing the allowed values.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A problem found after the schema passed: a value that is well-formed but wrong. */
export interface Refinement {
  /** Keys from the top, e.g. ['agent', 'listen']. */
  path: string[];
  message: string;
}

function segments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The deepest YAML node on the path, and whether we reached the key itself or stopped early. */
function nodeAt(root: Node | null, path: string[], wantKey: boolean): Node | null {
  let node: Node | null = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) return node;
      if (i === path.length - 1 && wantKey && isScalar(pair.key)) return pair.key;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

function describe(error: ErrorObject, value: unknown): { path: string[]; key: boolean; message: string } {
  const path = segments(error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      return {
        path: [...path, extra],
        key: true,
        message: 'unknown key (check the spelling; see the configuration reference)',
      };
    }
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return { path, key: false, message: `missing required key "${missing}"` };
    }
    case 'enum':
      return {
        path,
        key: false,
        message: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(value)})`,
      };
    case 'format':
      if ((error.params as { format: string }).format === 'regex') {
        return { path, key: false, message: `not a valid regular expression (got ${JSON.stringify(value)})` };
      }
      return {
        path,
        key: false,
        message: `${error.message ?? error.keyword} (got ${JSON.stringify(value)})`,
      };
    case 'pattern': {
      // The schema's description says in words what the pattern says in a regular expression.
      const expected = (error.parentSchema as { description?: string } | undefined)?.description;
      return {
        path,
        key: false,
        message: `has the wrong form (got ${JSON.stringify(value)})${expected ? `; expected ${expected}` : ''}`,
      };
    }
    default:
      return {
        path,
        key: false,
        message: `${error.message ?? error.keyword}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`,
      };
  }
}

function valueAt(data: unknown, path: string[]): unknown {
  let v: unknown = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/**
 * Parses and validates YAML text. Defaults declared in the schema are filled in. Throws a
 * ConfigError listing every problem.
 */
export function parseConfig<S extends TSchema>(
  schema: S,
  text: string,
  file: string,
  refine?: (data: Static<S>) => Refinement[],
): Static<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        key: '',
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const data = doc.toJS() ?? {};
  const validate = ajv.compile(schema);
  const locate = (path: string[], key: boolean) =>
    at(nodeAt(doc.contents as Node | null, path, key)?.range?.[0]);
  if (validate(data)) {
    const problems = refine?.(data as Static<S>) ?? [];
    if (problems.length === 0) return data as Static<S>;
    throw new ConfigError(
      problems
        .map((p) => ({ file, ...locate(p.path, false), key: p.path.join('.'), message: p.message }))
        .sort(byPosition),
    );
  }
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const error of validate.errors ?? []) {
    // Unions report one error per branch; the first one per location is the useful one.
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const d = describe(error, valueAt(data, segments(error.instancePath)));
    const key = d.path.join('.');
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push({ file, ...locate(d.path, d.key), key, message: d.message });
  }
  throw new ConfigError(diagnostics.sort(byPosition));
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.line - b.line || a.column - b.column;
}

export function loadConfigFile<S extends TSchema>(
  schema: S,
  file: string,
  refine?: (data: Static<S>) => Refinement[],
): Static<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError([
      { file, line: 0, column: 0, key: '', message: `cannot read the file: ${(cause as Error).message}` },
    ]);
  }
  return parseConfig(schema, text, file, refine);
}
