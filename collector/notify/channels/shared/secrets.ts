import { readFileSync } from 'node:fs';
import type { SecretRef } from '../types.js';

/**
 * Reads a secret by reference, at channel creation (start-up), so a missing secret fails the
 * start rather than the first alert. The error names where it looked, never a value.
 */
export function resolveSecret(ref: SecretRef, env: Record<string, string | undefined>, what: string): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new Error(`${what}: 环境变量 ${ref.env} 未设置 / environment variable ${ref.env} is not set`);
    }
    return value;
  }
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (cause) {
    throw new Error(`${what}: 无法读取密钥文件 ${ref.file} / cannot read secret file ${ref.file}`, { cause });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new Error(`${what}: 密钥文件 ${ref.file} 为空 / secret file ${ref.file} is empty`);
  return value;
}
