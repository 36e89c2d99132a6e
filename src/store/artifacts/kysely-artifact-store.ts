import type { Artifact, ArtifactStore } from '../../kernel/ports.js';
import type { ArtifactRow } from '../rows.js';
import type { SqlAccess } from '../sql-access.js';

function toArtifact(row: ArtifactRow): Artifact {
  return {
    kind: row.kind,
    hash: row.hash,
    userId: row.user_id,
    sessionId: row.session_id,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
  };
}

/** {@link ArtifactStore} on SQLite or PostgreSQL: one Kysely implementation for both dialects. */
export class KyselyArtifactStore implements ArtifactStore {
  readonly #sql: SqlAccess;

  constructor(access: SqlAccess) {
    this.#sql = access;
  }

  async put(a: Omit<Artifact, 'consumedAt'>): Promise<void> {
    await this.#sql.db
      .insertInto('artifacts')
      .values({
        hash: a.hash,
        kind: a.kind,
        user_id: a.userId,
        session_id: a.sessionId,
        data: a.data === null ? null : JSON.stringify(a.data),
        created_at: a.createdAt,
        expires_at: a.expiresAt,
        consumed_at: null,
      })
      .execute();
  }

  async consume(kind: string, hash: string, now: number): Promise<Artifact | null> {
    // One statement: the row lock (PostgreSQL) or the database lock (SQLite) lets exactly one
    // concurrent UPDATE see `consumed_at is null`; the others update nothing and get no row.
    const row = await this.#sql.db
      .updateTable('artifacts')
      .set({ consumed_at: now })
      .where('hash', '=', hash)
      .where('kind', '=', kind)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row ? toArtifact(row) : null;
  }

  async find(kind: string, hash: string): Promise<Artifact | null> {
    const row = await this.#sql.db
      .selectFrom('artifacts')
      .selectAll()
      .where('hash', '=', hash)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row ? toArtifact(row) : null;
  }

  async deleteForUser(userId: string, kinds?: readonly string[]): Promise<number> {
    let query = this.#sql.db.deleteFrom('artifacts').where('user_id', '=', userId);
    if (kinds !== undefined) {
      if (kinds.length === 0) return 0;
      query = query.where('kind', 'in', [...kinds]);
    }
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async prune(before: number): Promise<number> {
    // Bounded batches: a large backlog never holds the database (or SQLite's event loop) for long.
    let total = 0;
    for (;;) {
      const result = await this.#sql.db
        .deleteFrom('artifacts')
        .where('hash', 'in', (eb) =>
          eb.selectFrom('artifacts').select('hash').where('expires_at', '<', before).limit(500),
        )
        .executeTakeFirst();
      const deleted = Number(result.numDeletedRows);
      total += deleted;
      if (deleted < 500) return total;
    }
  }
}
