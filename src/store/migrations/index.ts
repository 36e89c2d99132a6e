import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { ConfigError } from '../../errors.js';
import { FEATURE_MIGRATIONS } from '../../features/migrations.js';
import { initialSchema } from './0001-initial.js';
import { rotationDeviceAndClient } from './0003-rotation-device-and-client.js';
import { usersEmailVerified } from './0004-users-email-verified.js';
import { artifacts } from './0005-artifacts.js';
import { refreshState } from './0006-refresh-state.js';
import { accountLifecycle } from './0007-account-lifecycle.js';

/** The kernel's own migrations (users, sessions, refresh tokens, events, keys, revocations). */
export const KERNEL_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initialSchema,
  '0003-rotation-device-and-client': rotationDeviceAndClient,
  '0004-users-email-verified': usersEmailVerified,
  '0005-artifacts': artifacts,
  '0006-refresh-state': refreshState,
  '0007-account-lifecycle': accountLifecycle,
};

/**
 * Every migration — the kernel's and the features' — in execution order (by name). Static (no
 * directory scan), so it works the same from `src/` under tsx and from `dist/`. Never rename or
 * edit a shipped one; a name used twice fails here, at import.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = assembleMigrations(
  KERNEL_MIGRATIONS,
  FEATURE_MIGRATIONS,
);

function assembleMigrations(...sets: ReadonlyArray<Readonly<Record<string, Migration>>>): Record<string, Migration> {
  const all: Record<string, Migration> = {};
  for (const set of sets) {
    for (const [name, migration] of Object.entries(set)) {
      if (Object.hasOwn(all, name)) throw new Error(`Two migrations are named ${name}`);
      all[name] = migration;
    }
  }
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Kysely's bookkeeping tables, prefixed so they do not clash with an application's own. */
export const MIGRATION_TABLE = 'tokenward_migration';
export const MIGRATION_LOCK_TABLE = 'tokenward_migration_lock';

/** Where the migration bookkeeping lives (PostgreSQL: the schema the store uses). */
export interface MigrationOptions {
  /** PostgreSQL schema of the bookkeeping tables; omit for SQLite. */
  schema?: string | undefined;
}

/** Result of {@link checkSchema}. */
export type SchemaStatus = 'ok' | 'unmigrated' | 'newer';

/** The newest migration this version knows: the schema version it needs. */
export const SCHEMA_VERSION: string = Object.keys(MIGRATIONS).sort().at(-1) ?? '';

/** What an operator runs to migrate, for messages. */
export const MIGRATE_HINT =
  'run `npx tokenward migrate` (or `npm run migrate` in a Tokenward checkout) with the same TOKENWARD_DATABASE_URL';

/**
 * The database schema does not match this version of Tokenward. A {@link ConfigError}: the
 * server refuses to start with this one message, which says what to run.
 */
export class SchemaError extends ConfigError {
  readonly code: 'schema_unmigrated' | 'schema_newer';
  constructor(status: Exclude<SchemaStatus, 'ok'>) {
    super(
      status === 'newer'
        ? `The database schema is newer than this version of Tokenward (which knows up to ${SCHEMA_VERSION}): upgrade Tokenward on this node; never run an older version against a database migrated by a newer one.`
        : `The database schema is missing or out of date (this version needs ${SCHEMA_VERSION}): ${MIGRATE_HINT}, or set TOKENWARD_AUTO_MIGRATE=1 to let the server migrate when it starts.`,
    );
    this.name = 'SchemaError';
    this.code = status === 'newer' ? 'schema_newer' : 'schema_unmigrated';
  }
}

const staticProvider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
function migratorFor(db: Kysely<any>, options: MigrationOptions): Migrator {
  return new Migrator({
    db,
    provider: staticProvider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(options.schema === undefined ? {} : { migrationTableSchema: options.schema }),
  });
}

/**
 * Brings the schema up to date (idempotent; concurrent callers are serialised by Kysely's
 * migration lock). Refuses a database migrated by a newer Tokenward. Returns the names of the
 * migrations it applied (empty when the schema was already current).
 *
 * @example
 * ```ts
 * await migrateToLatest(new Kysely({ dialect: new SqliteDialect({ database }) }));
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: see migratorFor().
export async function migrateToLatest(db: Kysely<any>, options: MigrationOptions = {}): Promise<string[]> {
  if ((await checkSchema(db, options)) === 'newer') throw new SchemaError('newer');
  const { error, results } = await migratorFor(db, options).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `Database migration${failed ? ` ${failed}` : ''} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The names of the migrations recorded in the database, in order (empty when it was never
 * migrated).
 *
 * @example
 * ```ts
 * const applied = await appliedMigrations(db); // ['0001-initial']
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: see migratorFor().
export async function appliedMigrations(db: Kysely<any>, options: MigrationOptions = {}): Promise<string[]> {
  const table =
    options.schema === undefined ? sql.table(MIGRATION_TABLE) : sql.table(`${options.schema}.${MIGRATION_TABLE}`);
  try {
    const { rows } = await sql<{ name: string }>`select name from ${table} order by name`.execute(db);
    return rows.map((r) => r.name);
  } catch (error) {
    if (isMissingTable(error)) return [];
    throw error;
  }
}

/**
 * Compares the migrations recorded in the database with the ones this version knows:
 * `'unmigrated'` when some are missing (or the database is empty), `'newer'` when the database
 * has migrations this version does not know.
 *
 * @example
 * ```ts
 * if ((await checkSchema(db)) !== 'ok') throw new Error('run tokenward migrate');
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: see migratorFor().
export async function checkSchema(db: Kysely<any>, options: MigrationOptions = {}): Promise<SchemaStatus> {
  const executed = await appliedMigrations(db, options);
  const known = new Set(Object.keys(MIGRATIONS));
  if (executed.some((name) => !known.has(name))) return 'newer';
  const done = new Set(executed);
  return [...known].every((name) => done.has(name)) ? 'ok' : 'unmigrated';
}

function isMissingTable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  // 42P01 undefined_table, 3F000 invalid_schema_name (PostgreSQL); "no such table" (SQLite).
  if (e?.code === '42P01' || e?.code === '3F000') return true;
  return typeof e?.message === 'string' && /no such table/i.test(e.message);
}
