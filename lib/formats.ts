/**
 * String formats used in configuration schemas, known to both validators in use: Ajv (files, see
 * config-file.ts) and TypeBox's Value (defaults and checks in code).
 */
import { FormatRegistry, type StringOptions, Type } from '@sinclair/typebox';

export function isRegularExpression(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

/** A configuration string that must compile as a JavaScript regular expression. */
export function RegexString(options: StringOptions = {}) {
  if (!FormatRegistry.Has('regex')) FormatRegistry.Set('regex', isRegularExpression);
  return Type.String({ ...options, format: 'regex' });
}
