import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations/index.js';
import { runDemoExpectingFailure, type ServerProcess, startDemoProcess } from '../support/process.js';
import {
  cleanEnv,
  eventually,
  meStatus,
  parseKeyList,
  refreshTokens,
  runTokenward,
  signupWithTokens,
} from './cli-helpers.js';
import { ScratchDatabases } from './pg-database.js';

/**
 * PostgreSQL deployments: a server refuses an unmigrated or newer schema with one message that
 * says what to run; `tokenward migrate` then start works; TOKENWARD_AUTO_MIGRATE lets several
 * nodes starting at once migrate safely; the users and sessions commands on PostgreSQL, with an
 * administrator's revocation reaching every node by polling and over Redis.
 */

const baseUrl = process.env.TOKENWARD_TEST_DATABASE_URL;
const SECRET = 'cli-test-secret-0123456789-abcdefghijklmnop';
const NODE_ENV = {
  TOKENWARD_SECRET: SECRET,
  TOKENWARD_PUBLIC_ORIGIN: 'http://localhost:3000',
  TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
  TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
};

if (baseUrl === undefined || baseUrl === '') {
  describe.skip('tokenward CLI › PostgreSQL: skipped because TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)', () => {
    it('migrate, schema check, auto-migrate', () => {});
  });
} else {
  const databases = new ScratchDatabases(baseUrl);
  const servers: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.kill()));
    await databases.dropAll();
  });

  describe('tokenward CLI › PostgreSQL', () => {
    it('a server refuses an unmigrated database with one message naming the command and TOKENWARD_AUTO_MIGRATE', {
      timeout: 60_000,
    }, async () => {
      const url = await databases.create('unmigrated');
      const { code, output } = await runDemoExpectingFailure(cleanEnv({ ...NODE_ENV, TOKENWARD_DATABASE_URL: url }));
      expect(code).toBe(1);
      const lines = output.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tokenward: The database schema is missing or out of date/);
      expect(lines[0]).toContain('npx tokenward migrate');
      expect(lines[0]).toContain('npm run migrate');
      expect(lines[0]).toContain('TOKENWARD_AUTO_MIGRATE=1');
      // Nothing was created by the refused start.
      const tables = await databases.query(
        url,
        "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
      );
      expect(tables.rows[0].n).toBe(0);
      const keys = await runTokenward(['keys', 'list'], { ...NODE_ENV, TOKENWARD_DATABASE_URL: url });
      expect(keys.code).toBe(1);
      expect(keys.stderr).toContain('npx tokenward migrate');
    });

    it('tokenward migrate, then the server starts; a second migrate has nothing to do', {
      timeout: 90_000,
    }, async () => {
      const url = await databases.create('migrate');
      const env = { ...NODE_ENV, TOKENWARD_DATABASE_URL: url };
      const run = await runTokenward(['migrate'], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Applied migration 0001-initial');
      expect(run.stdout).toContain(`Schema version: ${SCHEMA_VERSION}`);
      expect(run.stdout).not.toContain(SECRET);
      const again = await runTokenward(['migrate'], env);
      expect(again.stdout).toContain('Already up to date');

      const server = await startDemoProcess(cleanEnv(env));
      servers.push(server);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const session = await signupWithTokens(server.url);
      expect(await meStatus(server.url, session.accessToken)).toBe(200);
      const keys = parseKeyList(await runTokenward(['keys', 'list', '--json'], env));
      expect(keys.map((k) => k.state)).toEqual(['current']);
      await server.kill();
    });

    it('a server and migrate refuse a schema migrated by a newer Tokenward', { timeout: 60_000 }, async () => {
      const url = await databases.create('newer');
      const env = { ...NODE_ENV, TOKENWARD_DATABASE_URL: url };
      expect((await runTokenward(['migrate'], env)).code).toBe(0);
      await databases.query(
        url,
        "insert into tokenward_migration (name, timestamp) values ('9999-from-the-future', '2030-01-01T00:00:00.000Z')",
      );
      const { code, output } = await runDemoExpectingFailure(cleanEnv(env));
      expect(code).toBe(1);
      expect(output.trim()).toMatch(/^tokenward: The database schema is newer than this version of Tokenward/);
      const migrate = await runTokenward(['migrate'], env);
      expect(migrate.code).toBe(1);
      expect(migrate.stderr).toContain('newer than this version');
    });

    for (const transport of ['polling', 'redis'] as const) {
      const redisUrl = process.env.TOKENWARD_TEST_REDIS_URL;
      it(`users and sessions commands on PostgreSQL; users revoke-sessions reaches two nodes within 1 s (${transport})`, {
        timeout: 90_000,
      }, async () => {
        if (transport === 'redis' && (redisUrl === undefined || redisUrl === ''))
          throw new Error('TOKENWARD_TEST_REDIS_URL is not set (npm test sets it)');
        const url = await databases.create(`admin_${transport}`);
        const env = {
          ...NODE_ENV,
          TOKENWARD_DATABASE_URL: url,
          ...(transport === 'redis' ? { TOKENWARD_REDIS_URL: redisUrl ?? '' } : {}),
        };
        expect((await runTokenward(['migrate'], env)).code).toBe(0);
        const nodes = await Promise.all([0, 1].map(() => startDemoProcess(cleanEnv(env))));
        servers.push(...nodes);
        const [a, b] = nodes as [ServerProcess, ServerProcess];
        const email = `pg-admin-${transport}@example.com`;
        const first = await signupWithTokens(a.url, email);
        const second = await refreshTokens(b.url, first.refreshToken);

        const list = await runTokenward(['users', 'list', '--json'], env);
        expect(list.code).toBe(0);
        expect((JSON.parse(list.stdout) as { users: Array<{ email: string }> }).users.map((u) => u.email)).toEqual([
          email,
        ]);
        const sessions = await runTokenward(['sessions', 'list', email, '--json'], env);
        // signupWithTokens: the signup's cookie session and the token-endpoint session.
        expect(
          (JSON.parse(sessions.stdout) as { sessions: Array<{ state: string }> }).sessions.map((x) => x.state),
        ).toEqual(['active', 'active']);

        for (const node of nodes) expect(await meStatus(node.url, second.accessToken)).toBe(200);
        const run = await runTokenward(['users', 'revoke-sessions', email], env);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain(`Revoked 2 sessions of ${email} (reason: admin).`);
        const revokedAt = Date.now();
        await eventually(
          async () =>
            (await Promise.all(nodes.map((n) => meStatus(n.url, second.accessToken)))).every(
              (status) => status === 401,
            ),
          'both nodes to refuse the revoked token',
          1500,
        );
        expect(Date.now() - revokedAt).toBeLessThan(1500);
        const shown = JSON.parse((await runTokenward(['users', 'show', email, '--json'], env)).stdout) as {
          activeSessions: number;
          events: Array<Record<string, unknown>>;
        };
        expect(shown.activeSessions).toBe(0);
        expect(shown.events[0]).toMatchObject({ type: 'session.logout_all', reason: 'admin', count: 2 });
        await Promise.all(nodes.map((n) => n.kill()));
      });
    }

    it('TOKENWARD_AUTO_MIGRATE=1: three nodes starting at once on an empty database migrate it once and share one signing key', {
      timeout: 120_000,
    }, async () => {
      const url = await databases.create('auto');
      const env = { ...NODE_ENV, TOKENWARD_DATABASE_URL: url };
      const nodes = await Promise.all(
        [0, 1, 2].map(() => startDemoProcess(cleanEnv({ ...env, TOKENWARD_AUTO_MIGRATE: '1' }))),
      );
      servers.push(...nodes);
      const applied = await databases.query(url, 'select name from tokenward_migration order by name');
      expect(applied.rows.map((r) => r.name)).toContain(SCHEMA_VERSION);
      const keys = parseKeyList(await runTokenward(['keys', 'list', '--json'], env));
      expect(keys.filter((k) => k.state === 'current')).toHaveLength(1);
      const [a, , c] = nodes;
      if (!a || !c) throw new Error('nodes did not start');
      const session = await signupWithTokens(a.url);
      expect(await meStatus(c.url, session.accessToken)).toBe(200);
      await Promise.all(nodes.map((n) => n.kill()));
    });
  });
}
