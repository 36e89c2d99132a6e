import type { Kysely } from 'kysely';
import type { Store } from '../kernel/ports.js';
import type { Database } from './rows.js';

/**
 * The SQL database behind a store, for feature repositories and the artifacts table: queries
 * written once with Kysely for both dialects. On SQLite the connection is shared with the
 * store's own synchronous statements, so repositories use single statements (each atomic), never
 * a transaction spanning awaits.
 */
export interface SqlAccess {
  readonly db: Kysely<Database>;
  readonly dialect: 'sqlite' | 'postgres';
}

const registry = new WeakMap<Store, SqlAccess>();

/** Declares the SQL database of a store (called by the SQLite and PostgreSQL openers). */
export function registerSqlAccess(store: Store, access: SqlAccess): void {
  registry.set(store, access);
}

/** The SQL database of a store, or null for the in-memory store. */
export function sqlAccessOf(store: Store): SqlAccess | null {
  return registry.get(store) ?? null;
}
