import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../core/ports.js';
import type { PostgresStoreOptions } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export { createMemoryStore } from './memory/memory-store.js';
export { checkSchema, migrateToLatest, SchemaError, type SchemaStatus } from './migrations/index.js';
export type { PostgresStoreOptions } from './postgres/postgres-store.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';

/**
 * Opens the PostgreSQL store (see {@link PostgresStoreOptions}); re-exported lazily so that
 * importing this module does not load `pg`.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: 'postgres://tokenward@db/tokenward', migrate: true });
 * ```
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const mod = await import('./postgres/postgres-store.js');
  return mod.openPostgresStore(options);
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Directory of the embedded store (`<dataDir>/tokenward.db`); used when there is no database URL. */
  dataDir?: string | undefined;
  /** `postgres://…`: use PostgreSQL instead of the embedded SQLite store. */
  databaseUrl?: string | undefined;
  /** PostgreSQL only: run pending migrations at open (default false: an unmigrated database is refused). */
  migrate?: boolean | undefined;
  /** PostgreSQL only: pool size per process (default 10). */
  poolSize?: number | undefined;
}

/** The file name of the embedded database inside the data directory. */
export const SQLITE_FILE_NAME = 'tokenward.db';

/**
 * Opens the configured store: PostgreSQL when a `postgres://` URL is given (migrated only when
 * `migrate` is set; otherwise a missing or newer schema is refused with a {@link SchemaError}),
 * else the embedded SQLite store in `dataDir` (created with mode 0700 when missing, migrated at open).
 *
 * @example
 * ```ts
 * const store = await openStore({ dataDir: './.tokenward' });
 * ```
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl !== undefined) {
    return openPostgresStore({ url: options.databaseUrl, migrate: options.migrate, poolSize: options.poolSize });
  }
  const dataDir = options.dataDir ?? './.tokenward';
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore({ file: join(dataDir, SQLITE_FILE_NAME) });
}

