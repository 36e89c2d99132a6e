import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The initial schema. Portable between SQLite and PostgreSQL: times are `bigint` epoch ms
 * (INTEGER affinity in SQLite), booleans are 0/1 integers, JSON is text.
 */
export const initialSchema: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    // Callers store emails lowercase; the index on lower() keeps uniqueness case-insensitive even
    // if one ever slips through in another case.
    await sql`create unique index users_email_lower on users (lower(email))`.execute(db);

    await db.schema
      .createTable('credentials')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('totp_secret_sealed', 'text')
      .addColumn('totp_confirmed_at', 'bigint')
      .addColumn('totp_last_step', 'bigint')
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_active_at', 'bigint', (c) => c.notNull())
      .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('amr', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('revoke_reason', 'text')
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('user_agent', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text')
      .addColumn('new_device', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('dpop_jkt', 'text')
      .execute();
    // Not (user_id, last_active_at): every rotation moves last_active_at and would rewrite that index too.
    await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

    // Every token of a session is kept (hash only) until the session is pruned, so presenting an
    // old one is recognised as reuse rather than as an unknown token.
    await db.schema
      .createTable('refresh_tokens')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('parent_hash', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('successor_hash', 'text')
      .addColumn('successor_sealed', 'text')
      .execute();
    await db.schema.createIndex('refresh_tokens_session').on('refresh_tokens').column('session_id').execute();

    // No foreign key to users: the audit trail outlives users and records unknown-user attempts.
    await db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('ip', 'text')
      .addColumn('session_id', 'text')
      .addColumn('device', 'text')
      .addColumn('data', 'text')
      .execute();
    await db.schema.createIndex('events_user_at').on('events').columns(['user_id', 'at', 'id']).execute();
    await db.schema.createIndex('events_at').on('events').column('at').execute();

    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // Two nodes generating a first key at once: the database lets exactly one become `current`.
    await sql`create unique index signing_keys_one_current on signing_keys (state) where state = 'current'`.execute(db);

    await db.schema
      .createTable('revocations')
      .addColumn('session_id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('revocations_at').on('revocations').column('at').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    for (const table of [
      'revocations',
      'signing_keys',
      'events',
      'refresh_tokens',
      'sessions',
      'credentials',
      'users',
    ]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};
