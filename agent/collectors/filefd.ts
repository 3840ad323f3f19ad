import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { readKernelFile } from './kernel-file.js';
import { words } from './proc-text.js';
import type { CollectorDescriptor } from './types.js';

/** /proc/sys/fs/file-nr: allocated, unused (always 0 since Linux 2.6), maximum. */
export function parseFileNr(text: string): { allocated: number; maximum: number } {
  const parts = words(text.trim());
  const allocated = Number(parts[0]);
  const maximum = Number(parts[2]);
  if (parts.length < 3 || !Number.isFinite(allocated) || !Number.isFinite(maximum)) {
    throw new Error(`unexpected content in file-nr: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { allocated, maximum };
}

export const filefd: CollectorDescriptor<Record<string, never>> = {
  name: 'filefd',
  description: 'Allocated and maximum file handles from /proc/sys/fs/file-nr.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Type.Object({}),
  create() {
    return {
      async collect(ctx) {
        const { allocated, maximum } = parseFileNr(
          await readKernelFile(join(ctx.procRoot, 'sys/fs/file-nr')),
        );
        ctx.registry
          .gauge('node_filefd_allocated', 'File descriptor statistics: allocated.')
          .value(allocated);
        ctx.registry.gauge('node_filefd_maximum', 'File descriptor statistics: maximum.').value(maximum);
      },
    };
  },
};
