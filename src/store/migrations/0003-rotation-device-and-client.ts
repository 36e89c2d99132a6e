import type { Kysely, Migration } from 'kysely';

/**
 * Two columns, both nullable so that the migration is instant on a large table and rows written
 * before it stay valid:
 *
 * - `refresh_tokens.rotated_by`: a digest of the device that rotated the token (SHA-256 of its
 *   device id, or of its DPoP key thumbprint; never the raw device id). Within the grace window
 *   only that device gets the successor again; anyone else presenting the rotated token is
 *   reuse (API.md "Tokens"). Null: the token is unused, or was rotated by a presenter without
 *   any device identity (which gets no grace).
 * - `sessions.client_id`: the OAuth client the session was issued to (RFC 9068 §2.2
 *   `client_id` claim), kept so that every refresh issues tokens for the same client. Null for
 *   sessions started before this migration: they take the client id of the transport that
 *   refreshes them.
 */
export const rotationDeviceAndClient: Migration = {
  // biome-ignore lint/suspicious/noExplicitAny: migrations run against a schema that is not typed yet.
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('refresh_tokens').addColumn('rotated_by', 'text').execute();
    await db.schema.alterTable('sessions').addColumn('client_id', 'text').execute();
  },

  // biome-ignore lint/suspicious/noExplicitAny: see up().
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('sessions').dropColumn('client_id').execute();
    await db.schema.alterTable('refresh_tokens').dropColumn('rotated_by').execute();
  },
};
