import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSetCookies } from '../support/instance.js';
import { freePort, runDemoExpectingFailure, startDemoProcess } from '../support/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-durable-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('durability (real process, real SQLite file)', () => {
  it('sessions and keys survive SIGKILL and a restart on the same data dir', async () => {
    const port = await freePort();
    const env = { TOKENWARD_DATA_DIR: dataDir, TOKENWARD_PUBLIC_ORIGIN: `http://localhost:${port}` };
    const first = await startDemoProcess(env, port);
    let cookie = '';
    let kid = '';
    try {
      const signup = await fetch(`${first.url}/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ email: 'durable@example.com', password: 'a durable password' }),
      });
      expect(signup.status).toBe(201);
      cookie = [...parseSetCookies(signup)].map(([k, v]) => `${k}=${v.value}`).join('; ');
      kid = ((await (await fetch(`${first.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> })
        .keys[0]?.kid as string;
      expect(first.output()).toMatch(/listening/);
    } finally {
      await first.kill('SIGKILL');
    }
    expect(statSync(join(dataDir, 'secret')).mode & 0o777).toBe(0o600);
    const second = await startDemoProcess(env, port);
    try {
      const me = await fetch(`${second.url}/auth/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
      const keys = (
        (await (await fetch(`${second.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }
      ).keys;
      expect(keys.map((k) => k.kid)).toContain(kid);
      const refresh = await fetch(`${second.url}/auth/refresh`, {
        method: 'POST',
        headers: { cookie, 'sec-fetch-site': 'same-origin' },
      });
      expect(refresh.status).toBe(200);
    } finally {
      await second.kill();
    }
  });

  it('invalid configuration stops the server with one line naming the option', async () => {
    const { code, output } = await runDemoExpectingFailure({
      PORT: '0',
      TOKENWARD_DATA_DIR: dataDir,
      TOKENWARD_ACCESS_TTL: 'soon',
    });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toMatch(/accessTtl \(env TOKENWARD_ACCESS_TTL\)/);
  });

  it('an unreachable database or an unusable data dir stops the server with one line naming the variable, never the password', async () => {
    const db = await runDemoExpectingFailure({
      PORT: '0',
      TOKENWARD_SECRET: 'x'.repeat(40),
      TOKENWARD_DATABASE_URL: 'postgres://tokenward:hunter2-secret@127.0.0.1:1/tokenward',
    });
    expect(db.code).toBe(1);
    expect(db.output.trim().split('\n')).toHaveLength(1);
    expect(db.output).toMatch(/TOKENWARD_DATABASE_URL/);
    expect(db.output).not.toMatch(/hunter2/);
    const file = join(dataDir, 'not-a-dir');
    writeFileSync(file, '');
    const dir = await runDemoExpectingFailure({ PORT: '0', TOKENWARD_DATA_DIR: join(file, 'store') });
    expect(dir.code).toBe(1);
    expect(dir.output.trim().split('\n')).toHaveLength(1);
    expect(dir.output).toMatch(/dataDir \(env TOKENWARD_DATA_DIR\)/);
  });
});
