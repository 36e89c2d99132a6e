import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Store } from '../kernel/ports.js';
import {
  appliedMigrations,
  checkSchema,
  migrateToLatest,
  SCHEMA_VERSION,
  type SchemaStatus,
} from './migrations/index.js';
import type { PostgresStoreOptions } from './postgres/postgres-store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export { createMemoryStore } from './memory/memory-store.js';
export {
  appliedMigrations,
  checkSchema,
  MIGRATE_HINT,
  migrateToLatest,
  SCHEMA_VERSION,
  SchemaError,
  type SchemaStatus,
} from './migrations/index.js';
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
  /**
   * PostgreSQL only: run pending migrations at open (config `autoMigrate`, env
   * TOKENWARD_AUTO_MIGRATE). Default false: an unmigrated database is refused with a SchemaError.
   */
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

/** Where the schema lives: the PostgreSQL URL or the embedded data directory. */
export interface DatabaseLocation {
  /** Directory of the embedded store; used when there is no database URL. */
  dataDir?: string | undefined;
  /** `postgres://…` */
  databaseUrl?: string | undefined;
}

/** Result of {@link migrateDatabase} and {@link inspectDatabase}. */
export interface SchemaReport {
  /** `PostgreSQL <url without password>` or `SQLite <file>`. */
  target: string;
  /** Schema state before any migration ran. */
  status: SchemaStatus;
  /** Migrations recorded in the database (after migrating, for {@link migrateDatabase}). */
  migrations: string[];
  /** Migrations this call applied. */
  applied: string[];
  /** The schema version this version of Tokenward needs (its newest migration). */
  required: string;
}

/**
 * Applies pending migrations (what `tokenward migrate` runs): PostgreSQL when `databaseUrl` is
 * set (concurrent migrators wait for Kysely's advisory lock), else the embedded SQLite file
 * (created when missing). Refuses a database migrated by a newer Tokenward (SchemaError).
 *
 * @example
 * ```ts
 * const report = await migrateDatabase({ databaseUrl: process.env.TOKENWARD_DATABASE_URL });
 * console.log(report.applied);
 * ```
 */
export async function migrateDatabase(location: DatabaseLocation): Promise<SchemaReport> {
  return withSchemaDatabase(location, true, async (db, schema) => {
    const status = await checkSchema(db, { schema });
    const applied = status === 'ok' ? [] : await migrateToLatest(db, { schema });
    return { status, applied, migrations: await appliedMigrations(db, { schema }) };
  });
}

/**
 * Reads the schema state without changing anything.
 *
 * @example
 * ```ts
 * const { status } = await inspectDatabase({ dataDir: './.tokenward' }); // 'ok' | 'unmigrated' | 'newer'
 * ```
 */
export async function inspectDatabase(location: DatabaseLocation): Promise<SchemaReport> {
  return withSchemaDatabase(location, false, async (db, schema) => ({
    status: await checkSchema(db, { schema }),
    applied: [],
    migrations: await appliedMigrations(db, { schema }),
  }));
}

async function withSchemaDatabase(
  location: DatabaseLocation,
  create: boolean,
  // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
  work: (db: Kysely<any>, schema: string | undefined) => Promise<Omit<SchemaReport, 'target' | 'required'>>,
): Promise<SchemaReport> {
  if (location.databaseUrl !== undefined) {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({
      connectionString: location.databaseUrl,
      max: 2,
      connectionTimeoutMillis: 5000,
      application_name: 'tokenward-migrate',
    });
    pool.on('error', () => {});
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    try {
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
      const result = await work(db, rows[0]?.schema ?? 'public');
      return { target: `PostgreSQL ${redactUrl(location.databaseUrl)}`, required: SCHEMA_VERSION, ...result };
    } finally {
      await db.destroy();
    }
  }
  const dataDir = location.dataDir ?? './.tokenward';
  const file = join(dataDir, SQLITE_FILE_NAME);
  const target = `SQLite ${file}`;
  if (!create && !existsSync(file))
    return { target, status: 'unmigrated', migrations: [], applied: [], required: SCHEMA_VERSION };
  if (create) {
    // The store's own open path migrates a file safely against other processes (BEGIN IMMEDIATE).
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const before = existsSync(file) ? await withSqlite(file, (db) => appliedMigrations(db)) : [];
    const status = existsSync(file) ? await withSqlite(file, (db) => checkSchema(db)) : 'unmigrated';
    await (await openSqliteStore({ file })).close();
    const migrations = await withSqlite(file, (db) => appliedMigrations(db));
    return {
      target,
      status,
      migrations,
      applied: migrations.filter((m) => !before.includes(m)),
      required: SCHEMA_VERSION,
    };
  }
  return { target, required: SCHEMA_VERSION, ...(await withSqlite(file, (db) => work(db, undefined))) };
}

// biome-ignore lint/suspicious/noExplicitAny: see above.
async function withSqlite<T>(file: string, work: (db: Kysely<any>) => Promise<T>): Promise<T> {
  const database = new Database(file, { fileMustExist: true, timeout: 5000 });
  try {
    return await work(new Kysely({ dialect: new SqliteDialect({ database }) }));
  } finally {
    database.close();
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
