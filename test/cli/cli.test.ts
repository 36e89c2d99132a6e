import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySchedule } from '../../src/kernel/keys/key-ring.js';
import { SCHEMA_VERSION } from '../../src/store/migrations/index.js';
import { type ServerProcess, startDemoProcess } from '../support/process.js';
import {
  cleanEnv,
  eventually,
  jwksOf,
  kidOf,
  meStatus,
  parseKeyList,
  refreshTokens,
  runTokenward,
  signupWithTokens,
} from './cli-helpers.js';

/**
 * The `tokenward` binary as a real process (bin/tokenward.js, what `npx tokenward` runs) against
 * an embedded store in a temp data dir; the rotation runbook against a running server.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('tokenward CLI › usage', () => {
  it('--help prints every command and exits 0', async () => {
    const run = await runTokenward(['--help'], {});
    expect(run.code).toBe(0);
    for (const text of ['migrate', 'keys list', 'keys rotate', '--now', 'keys prune', 'serve', 'Exit codes'])
      expect(run.stdout).toContain(text);
  });

  it('no command prints the usage and exits 2; an unknown command or option exits 2 naming it', async () => {
    expect((await runTokenward([], {})).code).toBe(2);
    const unknown = await runTokenward(['frobnicate'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const option = await runTokenward(['keys', 'list', '--bogus'], {});
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--bogus');
    const sub = await runTokenward(['keys', 'spin'], {});
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('list, rotate, prune');
  });

  it('bad configuration exits 1 with one line naming the option and its variable', async () => {
    const run = await runTokenward(['migrate'], { TOKENWARD_DATA_DIR: tempDir(), TOKENWARD_ACCESS_TTL: 'ten minutes' });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^tokenward: Invalid configuration: accessTtl \(env TOKENWARD_ACCESS_TTL\)/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('PostgreSQL without TOKENWARD_SECRET exits 1 naming TOKENWARD_SECRET (before connecting)', async () => {
    const run = await runTokenward(['keys', 'list'], {
      TOKENWARD_DATABASE_URL: 'postgres://tokenward@127.0.0.1:1/none',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('secret (env TOKENWARD_SECRET) is required');
  });

  it('an unreachable database exits 1 with the error', async () => {
    const run = await runTokenward(['migrate'], {
      TOKENWARD_DATABASE_URL: 'postgres://tokenward@127.0.0.1:1/none',
      TOKENWARD_SECRET: 's'.repeat(43),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tokenward: .*(ECONNREFUSED|connect)/);
  });
});

describe('tokenward CLI › migrate (embedded store)', () => {
  it('creates and migrates a new data dir, prints the schema version, then reports nothing to do', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await runTokenward(['migrate'], { TOKENWARD_DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Applied migration 0001-initial');
    expect(first.stdout).toContain(`Schema version: ${SCHEMA_VERSION}`);
    const db = new Database(join(dataDir, 'tokenward.db'), { readonly: true });
    expect(db.prepare('select count(*) as n from tokenward_migration').get()).toEqual({ n: expect.any(Number) });
    db.close();
    const second = await runTokenward(['migrate'], { TOKENWARD_DATA_DIR: dataDir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Already up to date');
    expect(second.stdout).toContain(`Schema version: ${SCHEMA_VERSION}`);
  });

  it('refuses a database migrated by a newer Tokenward (exit 1, says to upgrade)', async () => {
    const dataDir = tempDir();
    expect((await runTokenward(['migrate'], { TOKENWARD_DATA_DIR: dataDir })).code).toBe(0);
    const db = new Database(join(dataDir, 'tokenward.db'));
    db.prepare(
      "insert into tokenward_migration (name, timestamp) values ('9999-from-the-future', '2030-01-01T00:00:00.000Z')",
    ).run();
    db.close();
    const run = await runTokenward(['migrate'], { TOKENWARD_DATA_DIR: dataDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('newer than this version of Tokenward');
  });
});

describe('tokenward CLI › keys (embedded store, server running)', () => {
  const ACCESS_TTL = 60;
  const schedule = keySchedule(ACCESS_TTL);
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess;
  let db: Database.Database;

  beforeAll(async () => {
    dataDir = tempDir();
    env = { TOKENWARD_DATA_DIR: dataDir, TOKENWARD_ACCESS_TTL: String(ACCESS_TTL) };
    server = await startDemoProcess(
      cleanEnv({ ...env, TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m', TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m' }),
    );
    db = new Database(join(dataDir, 'tokenward.db'));
  });
  afterAll(async () => {
    db?.close();
    await server?.kill();
  });

  /** Moves a key's last state change into the past (instead of waiting for the schedule). */
  function age(kid: string, seconds: number): void {
    db.prepare('update signing_keys set updated_at = updated_at - ? where kid = ?').run(seconds * 1000, kid);
  }

  it('publish → promote → retire, with a token issued before the rotation still verifying', {
    timeout: 90_000,
  }, async () => {
    const keys0 = parseKeyList(await runTokenward(['keys', 'list', '--json'], env));
    expect(keys0.map((k) => k.state)).toEqual(['current']);
    const k0 = keys0[0]?.kid ?? '';
    const session = await signupWithTokens(server.url);
    const before = session.accessToken;
    expect(kidOf(before)).toBe(k0);
    expect((await jwksOf(server.url)).cacheControl).toBe(`public, max-age=${schedule.jwksMaxAgeSec}`);

    // 1. publish: in JWKS after the node's reload, not signing.
    const publish = await runTokenward(['keys', 'rotate'], env);
    expect(publish.code).toBe(0);
    expect(publish.stdout).toContain('Published next key');
    const k1 =
      parseKeyList(await runTokenward(['keys', 'list', '--json'], env)).find((k) => k.state === 'next')?.kid ?? '';
    expect(k1).not.toBe('');
    await eventually(async () => (await jwksOf(server.url)).kids.includes(k1), 'the next key in JWKS');
    const whilePublished = await refreshTokens(server.url, session.refreshToken);
    expect(kidOf(whilePublished.accessToken)).toBe(k0);

    // 2. too early: nothing changes.
    const early = await runTokenward(['keys', 'rotate'], env);
    expect(early.code).toBe(0);
    expect(early.stdout).toContain('nothing changed');
    expect(parseKeyList(await runTokenward(['keys', 'list', '--json'], env)).map((k) => [k.kid, k.state])).toEqual([
      [k0, 'current'],
      [k1, 'next'],
    ]);

    // 3. promote once published long enough.
    age(k1, schedule.publishSec);
    const promote = await runTokenward(['keys', 'rotate'], env);
    expect(promote.code).toBe(0);
    expect(promote.stdout).toContain(`Promoted ${k1}`);
    expect(promote.stdout).toContain(`Previous key ${k0}`);
    expect(promote.stderr).toBe('');
    let latest = whilePublished;
    await eventually(async () => {
      latest = await refreshTokens(server.url, latest.refreshToken);
      return kidOf(latest.accessToken) === k1;
    }, 'tokens signed by the promoted key');
    expect(await meStatus(server.url, before)).toBe(200);
    expect(await meStatus(server.url, latest.accessToken)).toBe(200);
    const listed = await runTokenward(['keys', 'list'], env);
    expect(listed.stdout).toMatch(new RegExp(`${k0}\\s+EdDSA\\s+retiring .*retires in`));
    expect(listed.stdout).not.toMatch(/"d"|sealed|private/i);

    // 4. prune before it is due: nothing; after: retired and unpublished.
    expect((await runTokenward(['keys', 'prune'], env)).stdout).toContain('nothing retired');
    age(k0, schedule.retireSec);
    const prune = await runTokenward(['keys', 'prune'], env);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain(`Retired ${k0}`);
    await eventually(async () => !(await jwksOf(server.url)).kids.includes(k0), 'the retired key to leave JWKS');
    // In production every token of k0 has expired by now; here the clock was cheated, so it shows
    // that a retired key no longer verifies anything.
    expect(await meStatus(server.url, before)).toBe(401);
    expect(await meStatus(server.url, latest.accessToken)).toBe(200);
  });

  it('keys rotate --now publishes and promotes at once, warns, and the node verifies the new key at once', {
    timeout: 60_000,
  }, async () => {
    const session = await signupWithTokens(server.url);
    const run = await runTokenward(['keys', 'rotate', '--now'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Promoted');
    expect(run.stderr).toContain('warning: promoted without the publish delay');
    const current = parseKeyList(await runTokenward(['keys', 'list', '--json'], env)).find(
      (k) => k.state === 'current',
    )?.kid;
    let latest = session;
    await eventually(async () => {
      latest = await refreshTokens(server.url, latest.refreshToken);
      return kidOf(latest.accessToken) === current;
    }, 'tokens signed by the key promoted with --now');
    expect(await meStatus(server.url, session.accessToken)).toBe(200);
    expect(await meStatus(server.url, latest.accessToken)).toBe(200);
  });

  it('keys rotate respects TOKENWARD_ALGORITHM (ES256 next key)', { timeout: 60_000 }, async () => {
    const run = await runTokenward(['keys', 'rotate'], { ...env, TOKENWARD_ALGORITHM: 'ES256' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Published next key \S+ \(ES256\)/);
    const next = parseKeyList(await runTokenward(['keys', 'list', '--json'], env)).find((k) => k.state === 'next');
    expect(next?.alg).toBe('ES256');
    // Promotion with an EdDSA configuration replaces the ES256 next key instead of promoting it.
    const again = await runTokenward(['keys', 'rotate'], env);
    expect(again.stdout).toMatch(/Published next key \S+ \(EdDSA\)/);
    expect(
      parseKeyList(await runTokenward(['keys', 'list', '--json'], env)).find((k) => k.kid === next?.kid)?.state,
    ).toBe('retired');
  });
});
