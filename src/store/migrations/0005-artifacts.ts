import type { Kysely, Migration } from 'kysely';

/**
 * One table for every short-lived, single-use record (email links, OAuth codes, WebAuthn and
 * DBSC challenges): only hashes, consumed by one atomic UPDATE … RETURNING. A new capability adds
 * a kind, not a table or a store method.
 */
export const artifacts: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('artifacts')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('session_id', 'text')
      .addColumn('data', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('consumed_at', 'bigint')
      .execute();
    await db.schema.createIndex('artifacts_user').on('artifacts').columns(['user_id', 'kind']).execute();
    await db.schema.createIndex('artifacts_expires').on('artifacts').column('expires_at').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('artifacts').ifExists().execute();
  },
};
