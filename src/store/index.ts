import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../core/ports.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export { createMemoryStore } from './memory/memory-store.js';
export { checkSchema, migrateToLatest, SchemaError, type SchemaStatus } from './migrations/index.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Directory of the embedded store (`<dataDir>/tokenward.db`); used when there is no database URL. */
  dataDir?: string | undefined;
  /** `postgres://…`: use PostgreSQL instead of the embedded SQLite store. */
  databaseUrl?: string | undefined;
}

/** The file name of the embedded database inside the data directory. */
export const SQLITE_FILE_NAME = 'tokenward.db';

/**
 * Opens the configured store: PostgreSQL when a `postgres://` URL is given, else the embedded
 * SQLite store in `dataDir` (created with mode 0700 when missing, migrated at open).
 *
 * @example
 * ```ts
 * const store = await openStore({ dataDir: './.tokenward' });
 * ```
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl !== undefined) {
    throw new Error('PostgreSQL store is not available yet');
  }
  const dataDir = options.dataDir ?? './.tokenward';
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore({ file: join(dataDir, SQLITE_FILE_NAME) });
}

