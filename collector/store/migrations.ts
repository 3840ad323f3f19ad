/**
 * Migrations live in code (not files on disk) so the compiled collector carries them and the CLI
 * can open the store from anywhere. Append only: a released migration is never edited.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_agents_and_check_results': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('agents')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('token_prefix', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('last_seen_at', 'varchar(32)')
        .addColumn('last_address', 'varchar(100)')
        .addColumn('interval_seconds', 'double precision')
        .addColumn('inventory', 'text')
        .execute();
      await db.schema.createIndex('agents_token_prefix').on('agents').column('token_prefix').execute();

      await db.schema
        .createTable('check_results')
        .addColumn('agent_id', 'varchar(36)', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('check', 'varchar(200)', (c) => c.notNull())
        .addColumn('target', 'varchar(500)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('details', 'text')
        .addColumn('observed_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('check_results_pk', ['agent_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('check_results_check_observed')
        .on('check_results')
        .columns(['agent_id', 'check', 'observed_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('check_results').execute();
      await db.schema.dropTable('agents').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
