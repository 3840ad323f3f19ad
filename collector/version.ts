/** The creditops version, from the package.json above this file (sources or dist/). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function creditopsVersion(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start, i = 0; i < 5; dir = dirname(dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'creditops' && pkg.version) return pkg.version;
    } catch {
      // No package.json here: look one directory up.
    }
  }
  return 'unknown';
}
