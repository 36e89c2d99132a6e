import type { Kysely, Migration } from 'kysely';

/**
 * External identities (OpenID Connect) linked to local users. An identity is the pair the
 * OIDC spec makes unique: the issuer and the subject it asserts (`iss`, `sub`); e-mail
 * addresses are not identifiers (they change and get recycled), so they are kept only as a
 * record of what the provider said at link time.
 */
export const federatedIdentities: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('federated_identities')
      .addColumn('issuer', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('email', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('federated_identities_pk', ['issuer', 'subject'])
      .execute();
    await db.schema.createIndex('federated_identities_user').on('federated_identities').column('user_id').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('federated_identities').ifExists().execute();
  },
};
