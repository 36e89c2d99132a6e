import { randomUUID } from 'node:crypto';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotateInput, Session, Store } from '../../src/kernel/ports.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, MIGRATIONS, SchemaError } from '../../src/store/migrations/index.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { describeStoreConformance } from './store-conformance.js';

const url = process.env.TOKENWARD_TEST_DATABASE_URL;

if (url === undefined || url === '') {
  describe.skip('postgres store: skipped because TOKENWARD_TEST_DATABASE_URL is not set (the test harness sets it)', () => {
    it('runs the store conformance suite against a real PostgreSQL', () => {});
  });
} else {
  const databaseUrl = url;
  // Each run gets its own schemas, so parallel test files and earlier runs never interfere.
  const prefix = `tw_store_${process.pid}_${randomUUID().slice(0, 8)}`;
  const schema = `${prefix}_main`;
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const schemas = new Set<string>([schema]);
  const TABLES = ['users', 'credentials', 'sessions', 'refresh_tokens', 'events', 'signing_keys', 'revocations'];

  afterAll(async () => {
    for (const s of schemas) await admin.query(`drop schema if exists ${s} cascade`);
    await admin.end();
  });

  describeStoreConformance('postgres', async () => {
    const store = await openPostgresStore({ url: databaseUrl, schema, migrate: true, poolSize: 10 });
    await admin.query(`truncate ${TABLES.map((t) => `${schema}.${t}`).join(', ')} cascade`);
    return store;
  });

  describe('postgres store › across processes', () => {
    const T0 = 1_700_000_000_000;
    const raceSchema = `${prefix}_race`;
    let stores: Store[] = [];
    schemas.add(raceSchema);

    beforeAll(async () => {
      // Three stores = three pools, like three nodes; they also migrate the fresh schema at once.
      stores = await Promise.all(
        [0, 1, 2].map(() => openPostgresStore({ url: databaseUrl, schema: raceSchema, migrate: true, poolSize: 10 })),
      );
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    function storeAt(i: number): Store {
      const store = stores[i % stores.length];
      if (!store) throw new Error('no store');
      return store;
    }

    async function userWithSession(
      maxSessions = 20,
    ): Promise<{ userId: string; session: Session; refreshHash: string; token: Token }> {
      const userId = randomUUID();
      expect(
        await storeAt(0).createUser(
          { id: userId, email: `${userId}@example.com`, emailVerified: false, name: null, createdAt: T0 },
          'h',
        ),
      ).toBe('ok');
      const session = newSession(userId, T0);
      const refreshHash = `rt-${randomUUID()}`;
      await storeAt(0).createSession({ session, refreshHash, maxSessions });
      return { userId, session, refreshHash, token: { sessionId: session.id, generation: 1, hash: refreshHash } };
    }

    function newSession(userId: string, at: number): Session {
      return {
        id: randomUUID(),
        userId,
        createdAt: at,
        lastActiveAt: at,
        idleExpiresAt: at + 14 * 86_400_000,
        absoluteExpiresAt: at + 30 * 86_400_000,
        authTime: at,
        amr: ['pwd'],
        revokedAt: null,
        revokeReason: null,
        ip: '203.0.113.7',
        userAgent: 'test',
        deviceId: null,
        newDevice: false,
        dpopJkt: null,
        clientId: 'tokenward-native',
      };
    }

    /** Device digests (opaque to the store): the victim's browser and a thief's. */
    const VICTIM = 'V1aX0uG2b5Xb7d4c6Q3f5rT9yW8eK2mN4pL6sA1dZ0c';
    const THIEF = 'K9wQ2eR4tY6uI8oP0aS2dF4gH6jK8lZ0xC2vB4nM6qE';

    /** A refresh token as the store sees it (its session, generation and hash). */
    interface Token {
      sessionId: string;
      generation: number;
      hash: string;
    }

    function rotateInput(token: Token, now: number, presenter: string | null = VICTIM): RotateInput {
      const successorHash = `rt-${randomUUID()}`;
      return {
        sessionId: token.sessionId,
        generation: token.generation,
        presentedHash: token.hash,
        proofJkt: null,
        successorHash,
        successorSealed: `sealed:${successorHash}`,
        now,
        graceMs: 10_000,
        idleMs: 14 * 86_400_000,
        presenter,
        reuseEvent: { id: randomUUID(), type: 'refresh.reuse_detected', at: now, ip: null, device: null, data: null },
      };
    }

    it('grace window › through 3 pools, a stolen rotated token from another device is reuse: one revocation, one event, no successor', async () => {
      const { userId, session, token } = await userWithSession();
      expect((await storeAt(0).rotateRefreshToken(rotateInput(token, T0 + 1000))).kind).toBe('rotated');
      // 1 s later, the thief on every node at once, and the victim's own racing tab on one of them.
      const thefts = Array.from({ length: 12 }, () => rotateInput(token, T0 + 2000, THIEF));
      const outcomes = await Promise.all(thefts.map((input, i) => storeAt(i).rotateRefreshToken(input)));
      expect(outcomes.filter((o) => o.kind === 'reused')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'expired')).toHaveLength(11);
      expect(outcomes.some((o) => o.kind === 'grace' || o.kind === 'rotated')).toBe(false);
      expect((await storeAt(1).getSession(session.id))?.revokeReason).toBe('refresh_reuse');
      expect((await storeAt(2).listEvents(userId, { limit: 100 })).events.map((e) => e.type)).toEqual([
        'refresh.reuse_detected',
      ]);
      expect((await storeAt(0).rotateRefreshToken(rotateInput(token, T0 + 3000))).kind).toBe('expired');
    });

    it('grace window › racing presentations from the victim and a thief through 3 pools: never a successor for the thief, the session ends revoked', async () => {
      const { session, token } = await userWithSession();
      const inputs = Array.from({ length: 30 }, (_, i) => rotateInput(token, T0 + 1000, i % 10 === 5 ? THIEF : VICTIM));
      const outcomes = await Promise.all(inputs.map((input, i) => storeAt(i).rotateRefreshToken(input)));
      const thiefOutcomes = outcomes.filter((_, i) => inputs[i]?.presenter === THIEF);
      // A thief who won the first rotation holds a successor the victim's tabs then reveal as reuse.
      expect(thiefOutcomes.filter((o) => o.kind === 'grace')).toHaveLength(0);
      expect(outcomes.filter((o) => o.kind === 'rotated')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'reused')).toHaveLength(1);
      expect((await storeAt(1).getSession(session.id))?.revokeReason).toBe('refresh_reuse');
    });

    it('50 concurrent rotations of one token from one device through 3 pools: exactly one successor', async () => {
      const { token } = await userWithSession();
      const inputs = Array.from({ length: 50 }, () => rotateInput(token, T0 + 1000));
      const outcomes = await Promise.all(inputs.map((input, i) => storeAt(i).rotateRefreshToken(input)));
      const rotated = outcomes.flatMap((o, i) => (o.kind === 'rotated' ? [inputs[i]] : []));
      expect(rotated).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'grace')).toHaveLength(49);
      for (const o of outcomes) if (o.kind === 'grace') expect(o.successorSealed).toBe(rotated[0]?.successorSealed);
      const winner = rotated[0] as RotateInput;
      expect(
        (
          await storeAt(1).rotateRefreshToken(
            rotateInput({ sessionId: winner.sessionId, generation: 2, hash: winner.successorHash }, T0 + 2000),
          )
        ).kind,
      ).toBe('rotated');
    });

    it('50 concurrent replays from another device after the grace window through 3 pools: one revocation, one event, no successor', async () => {
      const { userId, session, token } = await userWithSession();
      await storeAt(0).rotateRefreshToken(rotateInput(token, T0 + 1000));
      const inputs = Array.from({ length: 50 }, () => rotateInput(token, T0 + 60_000, THIEF));
      const outcomes = await Promise.all(inputs.map((input, i) => storeAt(i).rotateRefreshToken(input)));
      expect(outcomes.filter((o) => o.kind === 'reused')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'expired')).toHaveLength(49);
      expect((await storeAt(1).listRevocationsSince(T0)).filter((r) => r.sessionId === session.id)).toEqual([
        { sessionId: session.id, at: T0 + 60_000 },
      ]);
      expect((await storeAt(2).listEvents(userId, { limit: 100 })).events.map((e) => e.type)).toEqual([
        'refresh.reuse_detected',
      ]);
      // None of their successors became current: the session is revoked.
      expect((await storeAt(0).getSession(session.id))?.revokeReason).toBe('refresh_reuse');
    });

    it('lost answer › 50 concurrent retries from the rotating device after the grace window through 3 pools: one rotation, the rest its successor, no revocation', async () => {
      const { session, token } = await userWithSession();
      await storeAt(0).rotateRefreshToken(rotateInput(token, T0 + 1000));
      const inputs = Array.from({ length: 50 }, () => rotateInput(token, T0 + 60_000));
      const outcomes = await Promise.all(inputs.map((input, i) => storeAt(i).rotateRefreshToken(input)));
      expect(outcomes.filter((o) => o.kind === 'rotated')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'grace')).toHaveLength(49);
      expect((await storeAt(1).getSession(session.id))?.revokedAt).toBeNull();
    });

    it('a rotation chain driven from alternating pools never forks', async () => {
      let { token } = await userWithSession();
      for (let i = 0; i < 20; i++) {
        const inputs = [0, 1, 2].map(() => rotateInput(token, T0 + 1000 + i * 100));
        const outcomes = await Promise.all(inputs.map((input, j) => storeAt(i + j).rotateRefreshToken(input)));
        const winner = outcomes.findIndex((o) => o.kind === 'rotated');
        expect(outcomes.filter((o) => o.kind === 'rotated')).toHaveLength(1);
        token = {
          sessionId: token.sessionId,
          generation: token.generation + 1,
          hash: inputs[winner]?.successorHash ?? '',
        };
      }
    });

    it('concurrent logins through 3 pools never leave more than maxSessions active', async () => {
      const { userId } = await userWithSession(5);
      const results = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          storeAt(i).createSession({
            session: newSession(userId, T0 + 10 + i),
            refreshHash: `rt-${randomUUID()}`,
            maxSessions: 5,
          }),
        ),
      );
      expect(await storeAt(0).listActiveSessions(userId, T0 + 100)).toHaveLength(5);
      // Every session that is no longer active was evicted by exactly one of the logins.
      expect(results.flatMap((r) => r.evicted)).toHaveLength(16 - 5);
    });

    it('logins evicting sessions and logout-all at once through 3 pools: no deadlock, nothing left active', async () => {
      const { userId } = await userWithSession(3);
      for (let i = 0; i < 6; i++)
        await storeAt(i).createSession({
          session: newSession(userId, T0 + i),
          refreshHash: `rt-${randomUUID()}`,
          maxSessions: 20,
        });
      const logins = Array.from({ length: 12 }, (_, i) =>
        storeAt(i).createSession({
          session: newSession(userId, T0 + 100 + i),
          refreshHash: `rt-${randomUUID()}`,
          maxSessions: 3,
        }),
      );
      const logouts = [0, 1, 2].map((i) => storeAt(i).revokeUserSessions(userId, T0 + 500, 'logout_all'));
      await Promise.all([...logins, ...logouts]);
      expect((await storeAt(0).listActiveSessions(userId, T0 + 1000)).length).toBeLessThanOrEqual(3);
      await storeAt(1).revokeUserSessions(userId, T0 + 2000, 'logout_all');
      expect(await storeAt(0).listActiveSessions(userId, T0 + 3000)).toEqual([]);
    });

    it('concurrent signups with one email through 3 pools: exactly one account', async () => {
      const email = `${randomUUID()}@example.com`;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          storeAt(i).createUser({ id: randomUUID(), email, emailVerified: false, name: null, createdAt: T0 }, 'h'),
        ),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    });

    it('returns times as numbers, not strings (int8 parsed)', async () => {
      const { session } = await userWithSession();
      const loaded = await storeAt(1).getSession(session.id);
      expect(typeof loaded?.createdAt).toBe('number');
      expect(loaded).toEqual(session);
    });
  });

  describe('postgres store › schema checks and errors', () => {
    it('refuses an unmigrated database unless asked to migrate', async () => {
      const fresh = `${prefix}_fresh`;
      schemas.add(fresh);
      await expect(openPostgresStore({ url: databaseUrl, schema: fresh })).rejects.toMatchObject({
        code: 'schema_unmigrated',
      });
      const store = await openPostgresStore({ url: databaseUrl, schema: fresh, migrate: true });
      await store.close();
      const again = await openPostgresStore({ url: databaseUrl, schema: fresh });
      await again.ping();
      await again.close();
    });

    it('refuses a database migrated by a newer version, even with migrate', async () => {
      const newer = `${prefix}_newer`;
      schemas.add(newer);
      await (await openPostgresStore({ url: databaseUrl, schema: newer, migrate: true })).close();
      await admin.query(
        `insert into ${newer}.tokenward_migration (name, timestamp) values ('9999-from-the-future', '2099-01-01')`,
      );
      await expect(openPostgresStore({ url: databaseUrl, schema: newer })).rejects.toBeInstanceOf(SchemaError);
      await expect(openPostgresStore({ url: databaseUrl, schema: newer, migrate: true })).rejects.toMatchObject({
        code: 'schema_newer',
      });
    });

    it('migration 0007 on a database with data: every account stays active; disable and delete work on the migrated rows', async () => {
      const old = `${prefix}_before_0007`;
      schemas.add(old);
      await admin.query(`create schema ${old}`);
      const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, options: `-c search_path=${old}` });
      const migrator = new Migrator({
        // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
        db: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }),
        provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
        migrationTableName: MIGRATION_TABLE,
        migrationLockTableName: MIGRATION_LOCK_TABLE,
        migrationTableSchema: old,
      });
      expect((await migrator.migrateTo('0005-artifacts')).error).toBeUndefined();
      await pool.end();
      await admin.query(`
        insert into ${old}.users (id, email, name, created_at, email_verified) values ('u1', 'one@example.com', 'One', 1, 1), ('u2', 'two@example.com', null, 2, 0);
        insert into ${old}.credentials (user_id, password_hash) values ('u1', 'h1'), ('u2', 'h2');
        insert into ${old}.sessions (id, user_id, created_at, last_active_at, idle_expires_at, absolute_expires_at, auth_time, amr, ip, user_agent)
          values ('s1', 'u1', 1, 1, 9999999999999, 9999999999999, 1, '["pwd"]', '203.0.113.7', 'ua');
        insert into ${old}.refresh_tokens (hash, session_id, created_at) values ('rt1', 's1', 1);
        insert into ${old}.events (id, user_id, type, at, ip, session_id, device, data) values
          ('e1', 'u1', 'login.success', 1, '203.0.113.7', 's1', 'Chrome', '{"m":1}'),
          ('e2', 'u1', 'login.failed', 2, '198.51.100.9', null, 'curl', '{"x":1}');
        insert into ${old}.artifacts (hash, kind, user_id, created_at, expires_at) values ('a1', 'password-reset', 'u1', 1, 9999999999999);
        insert into ${old}.federated_identities (issuer, subject, user_id, email, created_at) values ('https://idp.example.com', 'sub', 'u1', null, 1);
      `);
      await expect(openPostgresStore({ url: databaseUrl, schema: old })).rejects.toMatchObject({
        code: 'schema_unmigrated',
      });
      const store = await openPostgresStore({ url: databaseUrl, schema: old, migrate: true });
      try {
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
      } finally {
        await store.close();
      }
      const events = await admin.query(`select id, user_id, type, ip, session_id, data from ${old}.events order by id`);
      expect(events.rows).toEqual([
        { id: 'e2', user_id: null, type: 'login.failed', ip: '198.51.100.9', session_id: null, data: null },
        { id: 'e3', user_id: null, type: 'account.deleted', ip: null, session_id: null, data: null },
      ]);
      for (const table of [
        "users where id = 'u1'",
        "credentials where user_id = 'u1'",
        'sessions',
        'refresh_tokens',
        'artifacts',
        'federated_identities',
      ])
        expect((await admin.query(`select count(*)::int as n from ${old}.${table}`)).rows[0], table).toEqual({ n: 0 });
      expect((await admin.query(`select session_id from ${old}.revocations`)).rows).toEqual([{ session_id: 's1' }]);
    });

    it('rejects a schema name that is not a plain identifier', async () => {
      await expect(openPostgresStore({ url: databaseUrl, schema: 'x; drop table users' })).rejects.toThrow(
        /schema name/,
      );
    });

    it('an unreachable server surfaces as an error with its code', async () => {
      const unreachable = new URL(databaseUrl);
      unreachable.hostname = '127.0.0.1';
      unreachable.port = '1';
      await expect(openPostgresStore({ url: unreachable.toString(), migrate: true })).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    });

    it('ping fails once the store is closed', async () => {
      const store = await openPostgresStore({ url: databaseUrl, schema, migrate: true });
      await store.ping();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });
  });
}
