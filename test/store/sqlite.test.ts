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

  it('migration 0007 on a database with data: every account stays active; disable and delete work on the migrated rows', async () => {
    const file = join(dir, 'before-0007.db');
    const database = new Database(file);
    const migrator = new Migrator({
      // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
      db: new Kysely<any>({ dialect: new SqliteDialect({ database }) }),
      provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
    expect((await migrator.migrateTo('0005-artifacts')).error).toBeUndefined();
    database.exec(`
      INSERT INTO users (id, email, name, created_at, email_verified) VALUES ('u1', 'one@example.com', 'One', 1, 1), ('u2', 'two@example.com', NULL, 2, 0);
      INSERT INTO credentials (user_id, password_hash) VALUES ('u1', 'h1'), ('u2', 'h2');
      INSERT INTO sessions (id, user_id, created_at, last_active_at, idle_expires_at, absolute_expires_at, auth_time, amr, ip, user_agent)
        VALUES ('s1', 'u1', 1, 1, 9999999999999, 9999999999999, 1, '["pwd"]', '203.0.113.7', 'ua');
      INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ('rt1', 's1', 1);
      INSERT INTO events (id, user_id, type, at, ip, session_id, device, data) VALUES
        ('e1', 'u1', 'login.success', 1, '203.0.113.7', 's1', 'Chrome', '{"m":1}'),
        ('e2', 'u1', 'login.failed', 2, '198.51.100.9', NULL, 'curl', '{"x":1}');
      INSERT INTO artifacts (hash, kind, user_id, created_at, expires_at) VALUES ('a1', 'password-reset', 'u1', 1, 9999999999999);
    `);
    database.close();
    const store = await openSqliteStore({ file });
    expect(await store.findUserById('u1')).toEqual({
      id: 'u1',
      email: 'one@example.com',
      emailVerified: true,
      name: 'One',
      createdAt: 1,
    });
    expect(await store.updateUser('u2', { disabledAt: 5 })).toBe('ok');
    expect(await store.findUserById('u2')).toMatchObject({ disabledAt: 5 });
    expect(
      await store.deleteUser({
        userId: 'u1',
        at: 10,
        keepEventTypes: ['login.failed', 'account.deleted'],
        event: {
          id: 'e3',
          userId: null,
          type: 'account.deleted',
          at: 10,
          ip: null,
          sessionId: null,
          device: null,
          data: null,
        },
      }),
    ).toEqual(['s1']);
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT id, user_id, type, ip, session_id, data FROM events ORDER BY id').all()).toEqual([
      { id: 'e2', user_id: null, type: 'login.failed', ip: '198.51.100.9', session_id: null, data: null },
      { id: 'e3', user_id: null, type: 'account.deleted', ip: null, session_id: null, data: null },
    ]);
    for (const table of [
      "users WHERE id = 'u1'",
      "credentials WHERE user_id = 'u1'",
      'sessions',
      'refresh_tokens',
      'artifacts',
    ])
      expect(check.prepare(`SELECT count(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 });
    expect(check.prepare('SELECT session_id FROM revocations').all()).toEqual([{ session_id: 's1' }]);
    check.close();
  });

  it('ping throws after close', async () => {
    const store = await openSqliteStore({ file: join(dir, 'closed.db') });
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});
