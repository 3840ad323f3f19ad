/**
 * Tables of the collector's probing (migration 0003): approved account baselines and the log of
 * approvals, and the daily inspection reports. Same conventions as schema.ts: ISO 8601 text
 * times, JSON as text.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';

export interface AccountBaselinesTable {
  host: string;
  account: string;
  /** JSON of the approved AccountEntry. */
  snapshot: string;
  approved_by: string;
  approved_at: string;
  note: string | null;
}

export interface AccountApprovalsTable {
  id: string;
  host: string;
  account: string;
  /** added, changed or removed, relative to the previous baseline (or "initial"). */
  change: string;
  /** JSON of the approved AccountEntry; null when the account's removal was approved. */
  snapshot: string | null;
  approved_by: string;
  approved_at: string;
  note: string | null;
}

export interface InspectionReportsTable {
  id: string;
  host: string;
  /** The local calendar day the report is for, YYYY-MM-DD. */
  day: string;
  trigger: string;
  started_at: string;
  finished_at: string;
  /** The worst status of its checks. */
  status: string;
  summary: string;
  /** JSON array of every check's result with its evidence. */
  checks: string;
}

export type ProbeTables = {
  account_baselines: AccountBaselinesTable;
  account_approvals: AccountApprovalsTable;
  inspection_reports: InspectionReportsTable;
};

export type ProbeDatabase = Database & ProbeTables;

export function probeDb(store: Store): Kysely<ProbeDatabase> {
  return store.db.withTables<ProbeTables>();
}
