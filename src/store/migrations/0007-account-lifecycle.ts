import type { Kysely, Migration } from 'kysely';

/**
 * `users.disabled_at`: when an administrator disabled the account (`tokenward users disable`),
 * null while it is active. Nullable with no default, so the change is instant on a large table
 * and every existing account stays active. The kernel refuses logins and refreshes of a disabled
 * account (403 `account_disabled`) besides revoking its sessions, so a missed revocation cannot
 * keep it alive.
 */
export const accountLifecycle: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('users').dropColumn('disabled_at').execute();
  },
};
