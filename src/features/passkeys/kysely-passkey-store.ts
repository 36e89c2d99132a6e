import type { Kysely } from 'kysely';
import type { Database } from '../../store/rows.js';
import type { SqlAccess } from '../../store/sql-access.js';
import type { Passkey, PasskeyDeviceType, PasskeyStore } from './store.js';

/** A row of `passkeys` (migration 0008): times as epoch ms, booleans 0/1, lists as JSON text. */
export interface PasskeyRow {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string;
  device_type: string;
  backed_up: number;
  aaguid: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

type PasskeyDatabase = Database & { passkeys: PasskeyRow };

function toPasskey(row: PasskeyRow): Passkey {
  const transports: unknown = JSON.parse(row.transports);
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    // PostgreSQL returns bigint as text.
    counter: Number(row.counter),
    transports: Array.isArray(transports) ? transports.filter((t): t is string => typeof t === 'string') : [],
    deviceType: row.device_type as PasskeyDeviceType,
    backedUp: Number(row.backed_up) === 1,
    aaguid: row.aaguid,
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/**
 * {@link PasskeyStore} on SQLite or PostgreSQL: one statement per operation (SQLite shares its
 * connection with the store's synchronous statements, so no transaction spans an await), each
 * atomic on its own.
 */
export class KyselyPasskeyStore implements PasskeyStore {
  readonly #db: Kysely<PasskeyDatabase>;

  constructor(access: SqlAccess) {
    this.#db = access.db.withTables<{ passkeys: PasskeyRow }>();
  }

  async add(p: Passkey): Promise<'ok' | 'credential_taken'> {
    const row = await this.#db
      .insertInto('passkeys')
      .values({
        id: p.id,
        user_id: p.userId,
        credential_id: p.credentialId,
        public_key: p.publicKey,
        counter: p.counter,
        transports: JSON.stringify(p.transports),
        device_type: p.deviceType,
        backed_up: p.backedUp ? 1 : 0,
        aaguid: p.aaguid,
        name: p.name,
        created_at: p.createdAt,
        last_used_at: p.lastUsedAt,
      })
      // Two registrations of one credential (two tabs, two nodes): the unique index picks one.
      .onConflict((oc) => oc.column('credential_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row ? 'ok' : 'credential_taken';
  }

  async listForUser(userId: string): Promise<Passkey[]> {
    const rows = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toPasskey);
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async findByCredentialId(credentialId: string): Promise<Passkey | null> {
    const row = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  async findForUser(userId: string, id: string): Promise<Passkey | null> {
    const row = await this.#db
      .selectFrom('passkeys')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  async rename(userId: string, id: string, name: string): Promise<Passkey | null> {
    const row = await this.#db
      .updateTable('passkeys')
      .set({ name })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    return row ? toPasskey(row) : null;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('passkeys')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async recordUse(id: string, use: { counter: number; backedUp: boolean; at: number }): Promise<boolean> {
    // One UPDATE: the row lock (PostgreSQL) or the database lock (SQLite) makes the comparison and
    // the write one step, so of two assertions with the same counter exactly one advances it.
    const result = await this.#db
      .updateTable('passkeys')
      .set({ counter: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: use.at })
      .where('id', '=', id)
      // A counter of 0 means "no counter" only while the stored one is 0 too.
      .where('counter', use.counter === 0 ? '=' : '<', use.counter)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
