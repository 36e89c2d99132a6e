import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startDemoProcess } from '../support/process.js';
import {
  type CliRun,
  cleanEnv,
  eventually,
  meStatus,
  runTokenward,
  signupWithTokens,
  TEST_PASSWORD,
} from './cli-helpers.js';

/**
 * `tokenward users disable|enable|delete` as real processes against the embedded store of a
 * running demo server: the confirmation question (or --yes), 403 account_disabled at login and at
 * the token endpoint, and the sessions the command ends refused by the running node within 1 s.
 */

const BIN = fileURLToPath(new URL('../../bin/tokenward.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `tokenward <args>` with `input` written to its standard input (an operator answering the question). */
function runWithInput(args: string[], env: Record<string, string>, input: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: cleanEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('tokenward CLI › users disable|enable|delete (embedded store, server running)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tokenward-cli-lifecycle-'));
    env = { TOKENWARD_DATA_DIR: dataDir };
    server = await startDemoProcess(
      cleanEnv({ ...env, TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m', TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m' }),
    );
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const email = () => `cli-${crypto.randomUUID().slice(0, 8)}@example.com`;

  async function passwordGrant(address: string): Promise<Response> {
    return fetch(`${server.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: address, password: TEST_PASSWORD }),
    });
  }

  it('--help lists the three commands and --yes; a missing user or a misplaced --yes exits 2 naming it', async () => {
    const run = await runTokenward(['--help'], {});
    for (const text of [
      'users disable <email|id> [--yes]',
      'users enable <email|id>',
      'users delete <email|id>',
      '-y, --yes',
    ])
      expect(run.stdout).toContain(text);
    const cases: Array<[string[], string]> = [
      [['users', 'disable'], '`users disable` needs a user'],
      [['users', 'list', '--yes'], '--yes only applies to `users disable`, `users enable`, `users delete`'],
    ];
    for (const [args, message] of cases) {
      const usage = await runTokenward(args, env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain(message);
    }
  });

  it('without --yes and without an answer nothing changes (exit 1); "y" on standard input confirms', async () => {
    const address = email();
    const tokens = await signupWithTokens(server.url, address);
    const unanswered = await runTokenward(['users', 'disable', address], env);
    expect(unanswered.code).toBe(1);
    expect(unanswered.stderr).toContain('Nothing changed (not confirmed; --yes skips the question).');
    const no = await runWithInput(['users', 'disable', address], env, 'n\n');
    expect(no.code).toBe(1);
    expect(await meStatus(server.url, tokens.accessToken)).toBe(200);
    expect((await passwordGrant(address)).status).toBe(200);
    const yes = await runWithInput(['users', 'disable', address], env, 'y\n');
    expect(yes.code).toBe(0);
    expect(yes.stderr).toContain(`Disable ${address}?`);
    expect(yes.stdout).toMatch(new RegExp(`Disabled ${address}: 3 sessions ended`));
  });

  it('disable ends every session on the running node within 1 s; login and token answer 403 account_disabled; enable undoes it', {
    timeout: 30_000,
  }, async () => {
    const address = email();
    const tokens = [await signupWithTokens(server.url, address)];
    const other = await signupWithTokens(server.url, email());
    expect(await meStatus(server.url, tokens[0]?.accessToken ?? '')).toBe(200);
    const run = await runTokenward(['users', 'disable', address, '--yes', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ user: { email: address }, disabled: true, sessionsEnded: 2 });
    const disabledAt = Date.now();
    await eventually(
      async () => (await meStatus(server.url, tokens[0]?.accessToken ?? '')) === 401,
      'the token to be refused',
      1500,
    );
    expect(Date.now() - disabledAt).toBeLessThan(1500);
    expect(await meStatus(server.url, other.accessToken)).toBe(200);
    const grant = await passwordGrant(address);
    expect(grant.status).toBe(403);
    expect(await grant.json()).toMatchObject({ code: 'account_disabled' });
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email: address, password: TEST_PASSWORD }),
    });
    expect(login.status).toBe(403);
    expect(((await login.json()) as { code: string }).code).toBe('account_disabled');
    const shown = await runTokenward(['users', 'show', address], env);
    expect(shown.stdout).toMatch(/Status\s+disabled \(since /);
    const enabled = await runTokenward(['users', 'enable', address, '-y'], env);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toContain(`Enabled ${address}`);
    expect((await passwordGrant(address)).status).toBe(200);
  });

  it('delete asks for the email; a wrong answer changes nothing; the right one deletes everything and ends the sessions within 1 s', {
    timeout: 30_000,
  }, async () => {
    const address = email();
    const tokens = await signupWithTokens(server.url, address);
    const wrong = await runWithInput(['users', 'delete', address], env, 'y\n');
    expect(wrong.code).toBe(1);
    expect(await meStatus(server.url, tokens.accessToken)).toBe(200);
    const run = await runWithInput(['users', 'delete', address.toUpperCase()], env, `${address}\n`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Deleted ${address}: 2 active sessions ended`);
    const deletedAt = Date.now();
    await eventually(
      async () => (await meStatus(server.url, tokens.accessToken)) === 401,
      'the token to be refused',
      1500,
    );
    expect(Date.now() - deletedAt).toBeLessThan(1500);
    expect((await passwordGrant(address)).status).toBe(400);
    const db = new Database(join(dataDir, 'tokenward.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM users WHERE email = ?').get(address)).toEqual({ n: 0 });
      expect(
        db.prepare("SELECT data FROM events WHERE type = 'account.deleted' ORDER BY at DESC LIMIT 1").get(),
      ).toEqual({
        data: '{"by":"admin"}',
      });
    } finally {
      db.close();
    }
    const again = await runTokenward(['users', 'delete', address, '--yes'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no user with email "${address}"`);
  });
});
