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
  '0002_tickets_notifications_maintenance': {
    async up(db: Kysely<unknown>) {
      const time = 'varchar(32)';
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('token_prefix', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_token_prefix').on('users').column('token_prefix').execute();

      await db.schema
        .createTable('ticket_sequences')
        .addColumn('key', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('last', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tickets')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('number', 'varchar(32)', (c) => c.notNull().unique())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('severity', 'varchar(4)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('host', 'varchar(200)')
        .addColumn('service', 'varchar(200)')
        .addColumn('source', 'varchar(16)', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(600)')
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('assignee', 'varchar(200)')
        .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
        .addColumn('opened_at', time, (c) => c.notNull())
        .addColumn('acknowledged_at', time)
        .addColumn('resolved_at', time)
        .addColumn('closed_at', time)
        .addColumn('confirmed_at', time)
        .addColumn('ended_at', time)
        .addColumn('escalation_step', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', time, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('tickets_fingerprint')
        .on('tickets')
        .columns(['fingerprint', 'status'])
        .execute();
      await db.schema.createIndex('tickets_status').on('tickets').columns(['status', 'opened_at']).execute();

      await db.schema
        .createTable('ticket_events')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('ticket_id', 'varchar(36)', (c) =>
          c.notNull().references('tickets.id').onDelete('cascade'),
        )
        .addColumn('ordinal', 'integer', (c) => c.notNull())
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('type', 'varchar(32)', (c) => c.notNull())
        .addColumn('actor', 'varchar(200)', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('data', 'text')
        .addUniqueConstraint('ticket_events_ordinal', ['ticket_id', 'ordinal'])
        .execute();

      await db.schema
        .createTable('ticket_deadlines')
        .addColumn('ticket_id', 'varchar(36)', (c) =>
          c.notNull().references('tickets.id').onDelete('cascade'),
        )
        .addColumn('clock', 'varchar(32)', (c) => c.notNull())
        .addColumn('started_at', time, (c) => c.notNull())
        .addColumn('due_at', time, (c) => c.notNull())
        .addColumn('unknown', 'integer', (c) => c.notNull())
        .addColumn('unknown_years', 'text')
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('met_at', time)
        .addColumn('missed_at', time)
        .addPrimaryKeyConstraint('ticket_deadlines_pk', ['ticket_id', 'clock'])
        .execute();
      await db.schema
        .createIndex('ticket_deadlines_due')
        .on('ticket_deadlines')
        .columns(['state', 'due_at'])
        .execute();

      await db.schema
        .createTable('alert_deliveries')
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('starts_at', time, (c) => c.notNull())
        .addColumn('alertname', 'varchar(200)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('ticket_id', 'varchar(36)')
        .addColumn('received_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('alert_deliveries_pk', ['fingerprint', 'starts_at'])
        .execute();

      await db.schema
        .createTable('check_states')
        .addColumn('agent_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('check', 'varchar(200)', (c) => c.notNull())
        .addColumn('target', 'varchar(500)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('bad_streak', 'integer', (c) => c.notNull())
        .addColumn('ok_streak', 'integer', (c) => c.notNull())
        .addColumn('ticket_id', 'varchar(36)')
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addPrimaryKeyConstraint('check_states_pk', ['agent_id', 'check', 'target'])
        .execute();
      await db.schema
        .createTable('check_evaluator_cursors')
        .addColumn('agent_id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('outbox')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('dedupe_key', 'varchar(600)', (c) => c.notNull().unique())
        .addColumn('ticket_id', 'varchar(36)')
        .addColumn('reason', 'varchar(32)', (c) => c.notNull())
        .addColumn('channel', 'varchar(100)', (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('markdown', 'text')
        .addColumn('template_params', 'text')
        .addColumn('severity', 'varchar(4)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', time, (c) => c.notNull())
        .addColumn('lease_until', time)
        .addColumn('held_until', time)
        .addColumn('last_error', 'text')
        .addColumn('provider_message_id', 'varchar(200)')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('updated_at', time, (c) => c.notNull())
        .addColumn('sent_at', time)
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['state', 'next_attempt_at']).execute();

      await db.schema
        .createTable('maintenance_windows')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('hosts', 'text', (c) => c.notNull())
        .addColumn('services', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'varchar(64)', (c) => c.notNull())
        .addColumn('starts_local', 'varchar(16)', (c) => c.notNull())
        .addColumn('duration_minutes', 'integer', (c) => c.notNull())
        .addColumn('recurrence', 'varchar(200)')
        .addColumn('until_local', 'varchar(10)')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'varchar(200)', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('deleted_at', time)
        .execute();
      await db.schema
        .createTable('maintenance_suppressions')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('window_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('at', time, (c) => c.notNull())
        .addColumn('source', 'varchar(16)', (c) => c.notNull())
        .addColumn('host', 'varchar(200)')
        .addColumn('service', 'varchar(200)')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of [
        'maintenance_suppressions',
        'maintenance_windows',
        'outbox',
        'check_evaluator_cursors',
        'check_states',
        'alert_deliveries',
        'ticket_deadlines',
        'ticket_events',
        'tickets',
        'ticket_sequences',
        'users',
      ])
        await db.schema.dropTable(table).execute();
    },
  },
  '0003_account_baselines_and_inspection_reports': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('account_baselines')
        .addColumn('host', 'varchar(200)', (c) => c.notNull())
        .addColumn('account', 'varchar(200)', (c) => c.notNull())
        .addColumn('snapshot', 'text', (c) => c.notNull())
        .addColumn('approved_by', 'varchar(200)', (c) => c.notNull())
        .addColumn('approved_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('note', 'text')
        .addPrimaryKeyConstraint('account_baselines_pk', ['host', 'account'])
        .execute();
      await db.schema
        .createTable('account_approvals')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('host', 'varchar(200)', (c) => c.notNull())
        .addColumn('account', 'varchar(200)', (c) => c.notNull())
        .addColumn('change', 'varchar(16)', (c) => c.notNull())
        .addColumn('snapshot', 'text')
        .addColumn('approved_by', 'varchar(200)', (c) => c.notNull())
        .addColumn('approved_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('note', 'text')
        .execute();
      await db.schema
        .createIndex('account_approvals_host')
        .on('account_approvals')
        .columns(['host', 'approved_at'])
        .execute();
      await db.schema
        .createTable('inspection_reports')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('host', 'varchar(200)', (c) => c.notNull())
        .addColumn('day', 'varchar(10)', (c) => c.notNull())
        .addColumn('trigger', 'varchar(16)', (c) => c.notNull())
        .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('finished_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('checks', 'text', (c) => c.notNull())
        .addUniqueConstraint('inspection_reports_host_day', ['host', 'day'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['inspection_reports', 'account_approvals', 'account_baselines'])
        await db.schema.dropTable(table).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
