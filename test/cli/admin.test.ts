import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startDemoProcess } from '../support/process.js';
import {
  type CliRun,
  cleanEnv,
  eventually,
  meStatus,
  refreshTokens,
  runTokenward,
  TEST_PASSWORD,
  type TokenPair,
} from './cli-helpers.js';

/**
 * `tokenward users …` and `tokenward sessions …` as real processes against the embedded store
 * of a running demo server: what they show, what they never show, and that an administrator's
 * revocation reaches the running node like a logout-all.
 */

const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-cli-admin-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Nothing secret in a CLI's output: no password hash, TOTP secret, JWT, refresh token or device id. */
function expectNoSecrets(run: CliRun, extra: string[] = []): void {
  const text = run.stdout + run.stderr;
  expect(text).not.toMatch(/\$argon2/);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
  expect(text).not.toMatch(/twr_/);
  expect(text).not.toMatch(/passwordHash|password_hash|totpSecret|totp_secret|deviceId|device_id/i);
  for (const secret of extra) expect(text).not.toContain(secret);
}

describe('tokenward CLI › users and sessions: usage', () => {
  it('--help describes users, sessions and audit with their options', async () => {
    const run = await runTokenward(['--help'], {});
    expect(run.code).toBe(0);
    for (const text of [
      'users list [--limit N] [--email-contains TEXT]',
      'users show <email|id>',
      'users revoke-sessions <email|id>',
      'sessions list <email|id>',
      'sessions revoke <session-id>',
      'audit <url>',
      '--no-signup',
      '--insecure',
      '--json',
    ]) {
      expect(run.stdout).toContain(text);
    }
  });

  it('a missing subcommand or argument, a bad --limit or a misplaced option exits 2 naming it', async () => {
    const env = { TOKENWARD_DATA_DIR: tempDir() };
    const cases: Array<[string[], string]> = [
      [['users'], 'list, show, revoke-sessions, disable, enable, delete'],
      [['users', 'purge', 'a@example.com'], 'list, show, revoke-sessions, disable, enable, delete'],
      [['sessions'], 'list, revoke'],
      [['users', 'show'], '`users show` needs a user'],
      [['users', 'show', 'a@example.com', 'b@example.com'], 'unexpected argument "b@example.com"'],
      [['sessions', 'revoke'], '`sessions revoke` needs a session id'],
      [['users', 'list', '--limit', '0'], '--limit must be a whole number from 1'],
      [['users', 'list', '--limit', 'ten'], '--limit must be a whole number from 1'],
      [['sessions', 'list', 'a@example.com', '--email-contains', 'x'], '--email-contains only applies to `users list`'],
      [
        ['users', 'revoke-sessions', 'a@example.com', '--limit', '3'],
        '--limit only applies to `users list`, `sessions list`',
      ],
      [['keys', 'rotate', '--json'], '--json only applies to'],
    ];
    for (const [args, message] of cases) {
      const run = await runTokenward(args, env);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(message);
    }
  });

  it('a data directory without a store exits 1 saying so, and creates nothing', async () => {
    const dataDir = join(tempDir(), 'missing');
    for (const args of [
      ['users', 'list'],
      ['users', 'show', 'a@example.com'],
      ['sessions', 'revoke', 'x'],
      ['users', 'revoke-sessions', 'a@example.com'],
    ]) {
      const run = await runTokenward(args, { TOKENWARD_DATA_DIR: dataDir });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr.trim()).toMatch(/^tokenward: no embedded store at .*tokenward\.db: set TOKENWARD_DATA_DIR/);
    }
    expect(() => rmSync(dataDir)).toThrow();
  });
});

describe('tokenward CLI › users and sessions (embedded store, server running)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess;
  const accounts: Record<string, { email: string; id: string; tokens: TokenPair[] }> = {};

  async function signup(email: string, userAgent: string): Promise<{ id: string; tokens: TokenPair }> {
    const response = await fetch(`${server.url}/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'user-agent': userAgent },
      body: JSON.stringify({ email, password: TEST_PASSWORD }),
    });
    const body = (await response.json()) as { user: { id: string } };
    expect(response.status).toBe(201);
    return { id: body.user.id, tokens: await login(email, userAgent) };
  }

  async function login(email: string, userAgent: string): Promise<TokenPair> {
    const response = await fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
      body: new URLSearchParams({ grant_type: 'password', username: email, password: TEST_PASSWORD }),
    });
    const body = (await response.json()) as { access_token: string; refresh_token: string };
    expect(response.status).toBe(200);
    return { accessToken: body.access_token, refreshToken: body.refresh_token };
  }

  beforeAll(async () => {
    dataDir = tempDir();
    env = { TOKENWARD_DATA_DIR: dataDir };
    server = await startDemoProcess(
      cleanEnv({ ...env, TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m', TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m' }),
    );
    for (const [key, email] of [
      ['carol', 'carol@corp.example'],
      ['ada', 'ada@corp.example'],
      ['bob', 'bob@home.example'],
    ] as const) {
      const { id, tokens } = await signup(email, CHROME_MAC);
      accounts[key] = { email, id, tokens: [tokens] };
    }
    // Ada has a second device.
    accounts.ada?.tokens.push(await login('ada@corp.example', FIREFOX_LINUX));
  });
  afterAll(async () => {
    await server?.kill();
  });

  const ada = () => accounts.ada as { email: string; id: string; tokens: TokenPair[] };

  it('users list prints every user in email order, never credentials', async () => {
    const run = await runTokenward(['users', 'list'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+EMAIL\s+NAME\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual([
      'ada@corp.example',
      'bob@home.example',
      'carol@corp.example',
    ]);
    expect(run.stdout).toContain(ada().id);
    expectNoSecrets(run);
  });

  it('users list --limit and --email-contains narrow the list; --json gives the API user shape', async () => {
    const limited = await runTokenward(['users', 'list', '--limit', '2'], env);
    expect(limited.code).toBe(0);
    expect(limited.stdout).toContain('bob@home.example');
    expect(limited.stdout).not.toContain('carol@corp.example');
    expect(limited.stdout).toContain('(first 2 users; more match');

    const json = await runTokenward(['users', 'list', '--email-contains', 'CORP', '--json'], env);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { users: Array<Record<string, unknown>>; more: boolean };
    expect(body.more).toBe(false);
    expect(body.users.map((u) => u.email)).toEqual(['ada@corp.example', 'carol@corp.example']);
    expect(Object.keys(body.users[0] ?? {}).sort()).toEqual(['createdAt', 'email', 'emailVerified', 'id', 'name']);
    expect(body.users[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const none = await runTokenward(['users', 'list', '--email-contains', 'nobody'], env);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('No user\'s email contains "nobody"');
  });

  it('users show (by email in any case, or by id): created, TOTP, active sessions, last events', async () => {
    const byEmail = await runTokenward(['users', 'show', 'ADA@Corp.Example'], env);
    expect(byEmail.code).toBe(0);
    expect(byEmail.stdout).toMatch(new RegExp(`User\\s+${ada().id}`));
    expect(byEmail.stdout).toMatch(/Email\s+ada@corp\.example/);
    expect(byEmail.stdout).toMatch(/TOTP\s+off/);
    expect(byEmail.stdout).toMatch(/Sessions\s+3 active/);
    expect(byEmail.stdout).toMatch(/login\.success\s+127\.0\.0\.1\s+Firefox on Linux/);
    expect(byEmail.stdout).toContain('user.signup');
    expectNoSecrets(byEmail);

    const byId = await runTokenward(['users', 'show', ada().id, '--json'], env);
    expect(byId.code).toBe(0);
    const body = JSON.parse(byId.stdout) as {
      user: { email: string };
      totp: { enabled: boolean };
      activeSessions: number;
      events: Array<Record<string, unknown>>;
    };
    expect(body.user.email).toBe('ada@corp.example');
    expect(body.totp.enabled).toBe(false);
    expect(body.activeSessions).toBe(3);
    const firefox = body.events.find((e) => e.type === 'login.success' && e.device === 'Firefox on Linux');
    expect(firefox).toMatchObject({ ip: '127.0.0.1', sessionId: expect.any(String), at: expect.stringMatching(/Z$/) });
    // What GET /auth/events shows; the device markers in the event data stay in the store.
    expect(Object.keys(firefox ?? {}).sort()).toEqual(['at', 'device', 'ip', 'sessionId', 'type']);
    expect(body.events.map((e) => e.type)).toContain('login.new_device');
    expectNoSecrets(byId);
  });

  it('users show reports TOTP on (with the date) and never prints the sealed secret', async () => {
    const bob = accounts.bob as { id: string };
    const db = new Database(join(dataDir, 'tokenward.db'));
    db.prepare('update credentials set totp_secret_sealed = ?, totp_confirmed_at = ? where user_id = ?').run(
      'sealed-totp-secret-value',
      Date.parse('2026-01-02T03:04:05Z'),
      bob.id,
    );
    db.close();
    const run = await runTokenward(['users', 'show', 'bob@home.example'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/TOTP\s+on \(since 2026-01-02T03:04:05Z\)/);
    expectNoSecrets(run, ['sealed-totp-secret-value']);
  });

  it('an unknown user exits 1 naming what was looked up', async () => {
    const byEmail = await runTokenward(['users', 'show', 'nobody@example.com'], env);
    expect(byEmail.code).toBe(1);
    expect(byEmail.stderr.trim()).toBe('tokenward: no user with email "nobody@example.com"');
    const byId = await runTokenward(['sessions', 'list', 'no-such-id'], env);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toContain('no user with id "no-such-id"');
  });

  it('sessions list shows device, IP, created, last active and state; --json has no device id or token', async () => {
    const run = await runTokenward(['sessions', 'list', 'ada@corp.example'], env);
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+DEVICE\s+IP\s+CREATED\s+LAST ACTIVE\s+STATE$/);
    // Newest first: the Firefox login, then the Chrome token login, then the signup's session.
    expect(rows[1]).toMatch(/Firefox on Linux\s+127\.0\.0\.1\s+\S+Z\s+\S+Z\s+active until /);
    expect(rows[2]).toMatch(/Chrome on macOS\s+127\.0\.0\.1/);
    expect(run.stdout).toContain('3 active of 3 listed');
    expectNoSecrets(run);

    const json = await runTokenward(['sessions', 'list', 'ada@corp.example', '--json'], env);
    const body = JSON.parse(json.stdout) as { sessions: Array<Record<string, unknown>> };
    expect(body.sessions).toHaveLength(3);
    expect(body.sessions[0]).toMatchObject({
      state: 'active',
      ip: '127.0.0.1',
      device: { browser: 'Firefox', os: 'Linux', label: 'Firefox on Linux' },
      revokedAt: null,
    });
    expectNoSecrets(json);
    const limited = await runTokenward(['sessions', 'list', 'ada@corp.example', '--limit', '1', '--json'], env);
    expect((JSON.parse(limited.stdout) as { sessions: unknown[] }).sessions).toHaveLength(1);
  });

  it('sessions revoke ends one session on the running node within 1 s (reason admin); the others keep working', {
    timeout: 30_000,
  }, async () => {
    const [chrome, firefox] = ada().tokens as [TokenPair, TokenPair];
    const listed = JSON.parse((await runTokenward(['sessions', 'list', 'ada@corp.example', '--json'], env)).stdout) as {
      sessions: Array<{ id: string; device: { label: string } }>;
    };
    const firefoxSession = listed.sessions.find((s) => s.device.label === 'Firefox on Linux')?.id ?? '';
    expect(await meStatus(server.url, firefox.accessToken)).toBe(200);

    const run = await runTokenward(['sessions', 'revoke', firefoxSession], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Revoked session ${firefoxSession} of ada@corp.example (Firefox on Linux, 127.0.0.1) (reason: admin).`,
    );
    const revokedAt = Date.now();
    await eventually(
      async () => (await meStatus(server.url, firefox.accessToken)) === 401,
      'the revoked access token to be refused',
      1500,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    await expect(refreshTokens(server.url, firefox.refreshToken)).rejects.toThrow(
      /token endpoint: 400 .*invalid_grant/,
    );
    expect(await meStatus(server.url, chrome.accessToken)).toBe(200);

    const state = await runTokenward(['sessions', 'list', 'ada@corp.example'], env);
    expect(state.stdout).toMatch(new RegExp(`${firefoxSession}\\s+Firefox on Linux.*revoked \\S+Z \\(admin\\)`));
    const again = await runTokenward(['sessions', 'revoke', firefoxSession], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('was not active (revoked');
    const unknown = await runTokenward(['sessions', 'revoke', 'no-such-session'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no session with id "no-such-session"');
  });

  it('users revoke-sessions ends every session like a logout-all: the node refuses the tokens within 1 s, an event with reason admin is recorded', {
    timeout: 30_000,
  }, async () => {
    const carol = accounts.carol as { email: string; tokens: TokenPair[] };
    const second = await login(carol.email, FIREFOX_LINUX);
    const tokens = [...carol.tokens, second];
    for (const t of tokens) expect(await meStatus(server.url, t.accessToken)).toBe(200);
    const adaBefore = (ada().tokens[0] as TokenPair).accessToken;

    const run = await runTokenward(['users', 'revoke-sessions', carol.email], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Revoked 3 sessions of ${carol.email} (reason: admin).`);
    const revokedAt = Date.now();
    await eventually(
      async () => (await Promise.all(tokens.map((t) => meStatus(server.url, t.accessToken)))).every((s) => s === 401),
      'every access token of the user to be refused',
      1500,
    );
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    for (const t of tokens)
      await expect(refreshTokens(server.url, t.refreshToken)).rejects.toThrow(/token endpoint: 400 .*invalid_grant/);
    // Other users are untouched.
    expect(await meStatus(server.url, adaBefore)).toBe(200);

    const shown = JSON.parse((await runTokenward(['users', 'show', carol.email, '--json'], env)).stdout) as {
      activeSessions: number;
      events: Array<Record<string, unknown>>;
    };
    expect(shown.activeSessions).toBe(0);
    expect(shown.events[0]).toMatchObject({ type: 'session.logout_all', reason: 'admin', count: 3, ip: null });
    const db = new Database(join(dataDir, 'tokenward.db'), { readonly: true });
    const reasons = db
      .prepare(
        'select revoke_reason as reason, count(*) as n from sessions where user_id = (select id from users where email = ?) group by revoke_reason',
      )
      .all(carol.email);
    db.close();
    expect(reasons).toEqual([{ reason: 'admin', n: 3 }]);

    const again = await runTokenward(['users', 'revoke-sessions', carol.email, '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ user: { email: carol.email }, revoked: [] });
  });
});
