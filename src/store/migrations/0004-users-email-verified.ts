import type { Kysely, Migration } from 'kysely';

/**
 * `users.email_verified` (0/1, like every boolean of the schema): whether the account's holder
 * has proven the address, by Tokenward's own email verification or by signing up through a
 * federated identity whose provider asserted `email_verified: true`. Linking accounts by email
 * requires it on the local side (API.md, pre-account hijacking): an address typed into a
 * signup form proves nothing.
 *
 * Every existing row starts unverified, also users created by a federated signup: this version
 * cannot tell them apart from password accounts that were linked by email before this rule
 * (possibly an attacker's pre-created account), so none of them can be linked into by email
 * until verified. Their existing identity links keep working.
 */
export const usersEmailVerified: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('users')
      .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('users').dropColumn('email_verified').execute();
  },
};
