import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Refresh tokens in constant space (API.md "Tokens"): each session keeps its current generation,
 * the hash of its current token and the facts of the rotation that made it, on its own row;
 * tokens carry their session and generation under a MAC (kernel/refresh/refresh-token.ts), so
 * `refresh_tokens` no longer grows with every rotation.
 *
 * - Existing sessions keep working: their current (unused) token row stays in `refresh_tokens` as
 *   the lookup of that legacy token, its hash is copied to `sessions.refresh_hash` as generation
 *   0, and the first rotation moves the session to the new format.
 * - Spent rows of existing sessions are deleted: they were the growth. (A spent legacy token
 *   presented later is unknown — `refresh_invalid` — instead of reuse; every token issued from now
 *   on is recognised as reuse for the whole life of its session.)
 * - Pruning finds dead sessions through indexes on columns written once (revocation, absolute
 *   expiry), never through `idle_expires_at`, which moves on every rotation.
 */
export const refreshState: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('sessions')
      .addColumn('refresh_generation', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('sessions').addColumn('refresh_hash', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_previous_hash', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_rotated_at', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_rotated_by', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_successor_sealed', 'text').execute();
    // The rotation before the last one, for racing tabs overtaken by two rotations (within the grace window).
    await db.schema.alterTable('sessions').addColumn('refresh_older_hash', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_older_rotated_at', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_older_rotated_by', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('refresh_older_successor_sealed', 'text').execute();
    await sql`delete from refresh_tokens where used_at is not null`.execute(db);
    await sql`update sessions set refresh_hash = (select t.hash from refresh_tokens t where t.session_id = sessions.id and t.used_at is null)`.execute(
      db,
    );
    await sql`create index sessions_revoked_at on sessions (revoked_at) where revoked_at is not null`.execute(db);
    await db.schema.createIndex('sessions_absolute_expires_at').on('sessions').column('absolute_expires_at').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropIndex('sessions_absolute_expires_at').ifExists().execute();
    await db.schema.dropIndex('sessions_revoked_at').ifExists().execute();
    for (const column of [
      'refresh_successor_sealed',
      'refresh_rotated_by',
      'refresh_rotated_at',
      'refresh_previous_hash',
      'refresh_hash',
      'refresh_generation',
    ]) {
      await db.schema.alterTable('sessions').dropColumn(column).execute();
    }
  },
};
