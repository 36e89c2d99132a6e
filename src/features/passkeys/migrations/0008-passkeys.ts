import type { Kysely, Migration } from 'kysely';

/**
 * WebAuthn credentials (passkeys). A row holds only public data: the credential's public key
 * (COSE), never a secret — a database dump lets nobody sign in. `credential_id` is unique across
 * users (WebAuthn §7.1 step 22: a credential registered to one account is refused for another).
 * Rows go with their user (ON DELETE CASCADE): deleting an account deletes its passkeys.
 */
export const passkeys: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('passkeys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('credential_id', 'text', (c) => c.notNull().unique())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('counter', 'bigint', (c) => c.notNull())
      .addColumn('transports', 'text', (c) => c.notNull())
      .addColumn('device_type', 'text', (c) => c.notNull())
      .addColumn('backed_up', 'integer', (c) => c.notNull())
      .addColumn('aaguid', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('passkeys_user').on('passkeys').column('user_id').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('passkeys').ifExists().execute();
  },
};
