/**
 * The store's tables as Kysely sees them. Times are ISO 8601 UTC strings (`toISOString()`, so they
 * sort as text) and JSON columns are serialized text: both portable between SQLite and a future
 * PostgreSQL dialect (where the migration may pick timestamptz and jsonb).
 */
import type { Insertable, Selectable } from 'kysely';

export interface AgentsTable {
  /** A random UUID: portable, and safe to mint on several collector replicas at once. */
  id: string;
  name: string;
  /** Hex SHA-256 of the token; see tokens.ts for why a fast hash is enough here. */
  token_hash: string;
  /** The first characters of the token's random part, indexed, to find the row to compare. */
  token_prefix: string;
  created_at: string;
  last_seen_at: string | null;
  last_address: string | null;
  interval_seconds: number | null;
  /** JSON of the agent's last reported inventory. */
  inventory: string | null;
}

export interface CheckResultsTable {
  agent_id: string;
  seq: number;
  check: string;
  target: string | null;
  status: string;
  summary: string;
  /** JSON, or null when the result carried no details. */
  details: string | null;
  observed_at: string;
  received_at: string;
}

export interface Database {
  agents: AgentsTable;
  check_results: CheckResultsTable;
}

export type AgentRow = Selectable<AgentsTable>;
export type NewAgentRow = Insertable<AgentsTable>;
export type CheckResultRow = Selectable<CheckResultsTable>;
