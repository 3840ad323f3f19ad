/**
 * What the backup collector remembers across restarts (a JSON file in the agent's data
 * directory): the verification result of every backup by identity (dev, inode, size, mtime), so a
 * backup is verified once, and the last restore test of each set.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RestoreOutcome } from './restore-test.js';

export interface Verification {
  path: string;
  ok: boolean;
  reason?: string | undefined;
  evidence: Record<string, unknown>;
  verifiedAt: number;
}

export interface RestoreRecord extends RestoreOutcome {
  lastSuccessAt?: number | undefined;
}

export interface BackupStateData {
  version: 1;
  verified: Record<string, Verification>;
  restores: Record<string, RestoreRecord>;
}

export class BackupState {
  data: BackupStateData = { version: 1, verified: {}, restores: {} };
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  async load(): Promise<void> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as BackupStateData;
      if (parsed.version === 1)
        this.data = { version: 1, verified: parsed.verified ?? {}, restores: parsed.restores ?? {} };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(`cannot read the backup state file ${this.file}`, { cause: error });
      }
    }
  }

  /** Forgets verifications of backups that no set holds any more. */
  prune(identities: Set<string>): void {
    for (const key of Object.keys(this.data.verified))
      if (!identities.has(key)) delete this.data.verified[key];
  }

  /** Writes atomically (temp file and rename); saves are serialised. */
  save(): Promise<void> {
    const text = `${JSON.stringify(this.data, null, 1)}\n`;
    // A failed save must not poison the ones after it.
    this.saving = this.saving
      .catch(() => {})
      .then(async () => {
        await mkdir(dirname(this.file), { recursive: true });
        const tmp = `${this.file}.${process.pid}.tmp`;
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, this.file);
      });
    return this.saving;
  }
}
