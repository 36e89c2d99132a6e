// Refresh tokens issued before the constant-space format (migration 0006) keep working until they
// rotate, and the spent rows that made `refresh_tokens` grow are migrated away — on a SQLite file
// and on PostgreSQL, each migrated up from 0005 with data in it.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTokenward, type Tokenward } from '../../src/create-tokenward.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, MIGRATIONS } from '../../src/store/migrations/index.js';
import { ScratchDatabases } from '../cli/pg-database.js';
import { parseSetCookies } from '../support/instance.js';

const DEVICE = 'legacy-device-id-0123456789abcdef';
const legacyToken = (): string => `twr_${randomBytes(32).toString('base64url')}`;
const hashOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** A database at migration 0005 holding one session with its current legacy token and three spent ones. */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
async function seedBefore0006(db: Kysely<any>): Promise<{ current: string; spent: string[]; sessionId: string }> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  expect((await migrator.migrateTo('0005-artifacts')).error).toBeUndefined();
  const now = Date.now();
  const userId = randomUUID();
  const sessionId = randomUUID();
  await sql`insert into users (id, email, name, created_at, email_verified) values (${userId}, ${`legacy-${userId}@example.com`}, null, ${now}, 0)`.execute(
    db,
  );
  await sql`insert into credentials (user_id, password_hash) values (${userId}, 'unused')`.execute(db);
  await sql`insert into sessions (id, user_id, created_at, last_active_at, idle_expires_at, absolute_expires_at, auth_time, amr,
      revoked_at, revoke_reason, ip, user_agent, device_id, new_device, dpop_jkt, client_id)
    values (${sessionId}, ${userId}, ${now - 60_000}, ${now - 1000}, ${now + 86_400_000}, ${now + 10 * 86_400_000}, ${now - 60_000}, '["pwd"]',
      null, null, '203.0.113.7', 'Mozilla/5.0', ${DEVICE}, 0, null, 'http://localhost:3000')`.execute(db);
  const spent = [legacyToken(), legacyToken(), legacyToken()];
  const current = legacyToken();
  for (const [i, token] of spent.entries()) {
    await sql`insert into refresh_tokens (hash, session_id, parent_hash, created_at, used_at, successor_hash, successor_sealed, rotated_by)
      values (${hashOf(token)}, ${sessionId}, null, ${now - 50_000 + i}, ${now - 40_000 + i}, 'x', null, null)`.execute(
      db,
    );
  }
  await sql`insert into refresh_tokens (hash, session_id, parent_hash, created_at) values (${hashOf(current)}, ${sessionId}, null, ${now - 30_000})`.execute(
    db,
  );
  return { current, spent, sessionId };
}

async function refresh(
  tw: Tokenward,
  token: string,
  device: string | null,
): Promise<{ status: number; code?: string; next?: string }> {
  const response = await tw.fetch(
    new Request('http://localhost:3000/auth/refresh', {
      method: 'POST',
      headers: {
        cookie: [`__Secure-tw_rt=${token}`, ...(device ? [`__Host-tw_dev=${device}`] : [])].join('; '),
        'sec-fetch-site': 'same-origin',
      },
    }),
    { ip: '203.0.113.7' },
  );
  const body = (await response.json()) as { code?: string };
  const next = parseSetCookies(response).get('__Secure-tw_rt')?.value;
  return {
    status: response.status,
    ...(body.code ? { code: body.code } : {}),
    ...(response.status === 200 && next ? { next } : {}),
  };
}

async function expectLegacyBehaviour(
  tw: Tokenward,
  seeded: { current: string; spent: string[] },
  countTokens: () => Promise<number>,
): Promise<void> {
  // Spent rows are gone; the current legacy token's row stays as its lookup.
  expect(await countTokens()).toBe(1);
  for (const token of seeded.spent) expect((await refresh(tw, token, DEVICE)).code).toBe('refresh_invalid');
  const first = await refresh(tw, seeded.current, DEVICE);
  expect(first.status).toBe(200);
  expect(first.next).toMatch(/^twr_[A-Za-z0-9_-]{92}$/);
  // From now on the session is in the new format: its token rotates, and nothing is added per rotation.
  const second = await refresh(tw, first.next as string, DEVICE);
  expect(second.status).toBe(200);
  expect(await countTokens()).toBe(1);
  // The legacy token is now two rotations old (no grace window here): reuse, and the session ends.
  expect(await refresh(tw, seeded.current, DEVICE)).toEqual({ status: 401, code: 'refresh_reused' });
  expect((await refresh(tw, second.next as string, DEVICE)).code).toBe('session_expired');
}

describe('refresh tokens issued before the constant-space format (migration 0006)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('SQLite: spent rows migrated away; a legacy token rotates into the new format, then counts as reuse', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-legacy-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const database = new Database(join(dataDir, 'tokenward.db'));
    const seeded = await seedBefore0006(new Kysely({ dialect: new SqliteDialect({ database }) }));
    database.close();
    const tw = await createTokenward({
      publicOrigin: 'http://localhost:3000',
      dataDir,
      logLevel: 'silent',
      refreshGrace: 0,
    });
    cleanups.push(() => tw.close());
    const countTokens = async (): Promise<number> => {
      const db = new Database(join(dataDir, 'tokenward.db'), { readonly: true });
      try {
        return (db.prepare('select count(*) as n from refresh_tokens').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await expectLegacyBehaviour(tw, seeded, countTokens);
  });

  const base = process.env.TOKENWARD_TEST_DATABASE_URL;
  it.skipIf(!base)('PostgreSQL: the same (npm test sets TOKENWARD_TEST_DATABASE_URL)', async () => {
    const databases = new ScratchDatabases(base as string);
    cleanups.push(() => databases.dropAll());
    const url = await databases.create('legacy');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    const seeded = await seedBefore0006(db);
    await db.destroy();
    const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-legacy-pg-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const tw = await createTokenward({
      publicOrigin: 'http://localhost:3000',
      databaseUrl: url,
      secret: 'legacy-refresh-test-secret-0123456789abcdef',
      autoMigrate: true,
      dataDir,
      logLevel: 'silent',
      refreshGrace: 0,
    });
    cleanups.push(() => tw.close());
    const countTokens = async (): Promise<number> => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return Number((await client.query('select count(*) as n from refresh_tokens')).rows[0].n);
      } finally {
        await client.end();
      }
    };
    await expectLegacyBehaviour(tw, seeded, countTokens);
  });
});
