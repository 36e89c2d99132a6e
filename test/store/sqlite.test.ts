import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, MIGRATIONS, SchemaError } from '../../src/store/migrations/index.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'tokenward-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreConformance('sqlite', () => openSqliteStore({ file: join(dir, `conformance-${n++}.db`) }));

describe('sqlite store › file and schema', () => {
  it('creates the database file with mode 0600 and WAL journaling', async () => {
    const file = join(dir, 'mode.db');
    const store = await openSqliteStore({ file });
    await store.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('openStore puts tokenward.db in the data directory (created 0700)', async () => {
    const dataDir = join(dir, 'data', 'nested');
    const store = await openStore({ dataDir });
    await store.ping();
    await store.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'tokenward.db')).mode & 0o777).toBe(0o600);
  });

  it('reopening keeps the data and does not re-run migrations', async () => {
    const file = join(dir, 'reopen.db');
    const first = await openSqliteStore({ file });
    await first.createUser({ id: 'u1', email: 'a@example.com', emailVerified: false, name: null, createdAt: 1 }, 'h');
    await first.close();
    const second = await openSqliteStore({ file });
    expect(await second.findUserById('u1')).toMatchObject({ email: 'a@example.com' });
    await second.close();
  });

  it('two stores opening a new file at once both succeed', async () => {
    const file = join(dir, 'parallel.db');
    const stores = await Promise.all([openSqliteStore({ file }), openSqliteStore({ file })]);
    for (const s of stores) await s.close();
  });

  it('refuses a database migrated by a newer version', async () => {
    const file = join(dir, 'newer.db');
    await (await openSqliteStore({ file })).close();
    const db = new Database(file);
    db.prepare("INSERT INTO tokenward_migration (name, timestamp) VALUES ('9999-from-the-future', '2099-01-01')").run();
    db.close();
    await expect(openSqliteStore({ file })).rejects.toBeInstanceOf(SchemaError);
    await expect(openSqliteStore({ file })).rejects.toMatchObject({ code: 'schema_newer' });
  });

  it('migration 0004 leaves every existing user unverified, also one created through a federated identity', async () => {
    const file = join(dir, 'before-0004.db');
    const database = new Database(file);
    const migrator = new Migrator({
      // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
      db: new Kysely<any>({ dialect: new SqliteDialect({ database }) }),
      provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
    expect((await migrator.migrateTo('0003-rotation-device-and-client')).error).toBeUndefined();
    database
      .prepare(
        "INSERT INTO users (id, email, name, created_at) VALUES ('u-pwd', 'pwd@example.com', NULL, 1), ('u-fed', 'fed@example.com', NULL, 1)",
      )
      .run();
    database
      .prepare(
        "INSERT INTO federated_identities (issuer, subject, user_id, email, created_at) VALUES ('https://idp.example.com', 's1', 'u-fed', 'fed@example.com', 1)",
      )
      .run();
    database.close();
    const store = await openSqliteStore({ file });
    expect(await store.findUserById('u-pwd')).toMatchObject({ emailVerified: false });
    expect(await store.findUserById('u-fed')).toMatchObject({ emailVerified: false });
    await store.close();
  });

  it('ping throws after close', async () => {
    const store = await openSqliteStore({ file: join(dir, 'closed.db') });
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});
