/**
 * `tokenward serve` as a real process (bin/tokenward.js, what `npx tokenward serve` runs): the
 * one start-up line, auth routes without the demo, `--static` serving an SPA without ever
 * shadowing Tokenward's paths, and graceful shutdown on SIGTERM (in-flight requests finish, new
 * connections are refused, exit 0; a request that never finishes is cut at the bound).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/process.js';
import { cleanEnv, runTokenward } from './cli-helpers.js';
import { ScratchDatabases } from './pg-database.js';

const BIN = fileURLToPath(new URL('../../bin/tokenward.js', import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-serve-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  port: number;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `tokenward serve <args>` and resolves once it printed its start-up line. */
async function startServe(args: string[], env: Record<string, string> = {}, cwd = tempDir()): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1', ...args], {
    cwd,
    env: cleanEnv({ TOKENWARD_DATA_DIR: join(cwd, '.tokenward'), TOKENWARD_LOG_LEVEL: 'warn', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stdout}\n${stderr}`)), 30_000);
    child.stdout?.on('data', () => {
      if (stdout.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return { child, port, url: `http://127.0.0.1:${port}`, stdout: () => stdout, stderr: () => stderr, exit };
}

async function stop(served: Served): Promise<number | null> {
  if (served.child.exitCode === null) served.child.kill('SIGTERM');
  return served.exit;
}

/** A raw HTTP/1.1 request whose body is sent in two parts, the second when the test says so. */
function partialPost(
  port: number,
  path: string,
  body: string,
  firstBytes: number,
): Promise<{ socket: Socket; sendRest: () => void; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nOrigin: http://localhost:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, firstBytes)}`,
      );
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      const answer = new Promise<string>((done) => socket.once('close', () => done(received)));
      resolve({ socket, sendRest: () => socket.write(body.slice(firstBytes)), answer });
    });
    socket.once('error', reject);
  });
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });

describe('tokenward serve › start-up', { timeout: 60_000 }, () => {
  it('prints one start-up line (URL, mode, origin), serves the auth routes and no demo', async () => {
    const served = await startServe([], { PORT: '1' }); // --port wins over PORT
    try {
      const lines = served.stdout().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^Tokenward listening on http://127\\.0\\.0\\.1:${served.port} · mode embedded \\(SQLite in .+\\.tokenward\\) · origin http://localhost:${served.port}$`,
        ),
      );
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
      const me = await fetch(`${served.url}/auth/me`);
      expect(me.status).toBe(401);
      // The demo's page and API are not there.
      for (const path of ['/', '/api/profile', '/login']) {
        const res = await fetch(`${served.url}${path}`);
        expect(res.status, path).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    } finally {
      expect(await stop(served)).toBe(0);
    }
  });

  it('says insecureHttp when it is on', async () => {
    const port = await freePort();
    const served = await startServe([], {
      TOKENWARD_PUBLIC_ORIGIN: `http://10.20.30.40:${port}`,
      TOKENWARD_INSECURE_HTTP: 'true',
      TOKENWARD_LOG_LEVEL: 'error',
    });
    try {
      expect(served.stdout()).toMatch(/· origin http:\/\/10\.20\.30\.40:\d+ · insecureHttp ON/);
    } finally {
      await stop(served);
    }
  });

  describe('on PostgreSQL', () => {
    const baseUrl = process.env.TOKENWARD_TEST_DATABASE_URL;
    let databases: ScratchDatabases;
    beforeAll(() => {
      if (!baseUrl)
        throw new Error(
          'TOKENWARD_TEST_DATABASE_URL is not set: run the suite with `npm test` (tools/test.mjs starts PostgreSQL)',
        );
      databases = new ScratchDatabases(baseUrl);
    });
    afterAll(async () => databases?.dropAll());

    it('names the postgres mode and host, never the password', async () => {
      const url = new URL(await databases.create('serve'));
      url.username = url.username || 'postgres';
      const served = await startServe([], {
        TOKENWARD_DATABASE_URL: url.toString(),
        TOKENWARD_SECRET: 's'.repeat(40),
        TOKENWARD_AUTO_MIGRATE: 'true',
      });
      try {
        const line = served.stdout().trim();
        expect(line).toContain(`· mode postgres (${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}) ·`);
        if (url.password) expect(line).not.toContain(url.password);
      } finally {
        expect(await stop(served)).toBe(0);
      }
    });
  });

  it('refuses bad flags with a usage error, and a --static directory without index.html with one clear line', async () => {
    const badPort = await runTokenward(['serve', '--port', 'http'], {});
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port must be a whole number from 0 to 65535 (got "http")');
    const empty = tempDir();
    const noIndex = await runTokenward(['serve', '--static', empty], { TOKENWARD_DATA_DIR: join(empty, '.tokenward') });
    expect(noIndex.code).toBe(1);
    expect(noIndex.stderr.trim()).toBe(
      `tokenward: --static ${empty}: no index.html in it (point it at your SPA's build output, e.g. dist/)`,
    );
    const missing = await runTokenward(['serve', '--static', join(empty, 'nope')], {});
    expect(missing.stderr).toContain('no such directory');
  });
});

describe('tokenward serve --static', { timeout: 60_000 }, () => {
  let served: Served;
  beforeAll(async () => {
    const cwd = tempDir();
    const spa = join(cwd, 'dist');
    mkdirSync(join(spa, 'assets'), { recursive: true });
    writeFileSync(
      join(spa, 'index.html'),
      '<!doctype html><title>spa</title><script type="module" src="/assets/index-3f9a1c2b.js"></script>',
    );
    writeFileSync(join(spa, 'assets', 'index-3f9a1c2b.js'), 'console.log("app")');
    writeFileSync(join(spa, 'assets', 'style.css'), 'body{}');
    writeFileSync(join(spa, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(spa, '.env'), 'SECRET=1');
    writeFileSync(join(cwd, 'outside.txt'), 'outside');
    served = await startServe(['--static', 'dist'], {}, cwd);
  });
  afterAll(async () => {
    if (served) expect(await stop(served)).toBe(0);
  });

  const get = (path: string, init?: RequestInit) => fetch(`${served.url}${path}`, init);

  it('serves files with their content types; hashed assets are immutable, HTML is revalidated and has a CSP', async () => {
    const cases: Array<[string, string]> = [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/assets/index-3f9a1c2b.js', 'text/javascript; charset=utf-8'],
      ['/assets/style.css', 'text/css; charset=utf-8'],
      ['/logo.svg', 'image/svg+xml'],
    ];
    for (const [path, type] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect((await get('/assets/index-3f9a1c2b.js')).headers.get('cache-control')).toBe(
      'public, max-age=31536000, immutable',
    );
    const html = await get('/');
    expect(html.headers.get('cache-control')).toBe('no-cache');
    expect(html.headers.get('content-security-policy')).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
    expect(await html.text()).toContain('<title>spa</title>');
  });

  it('answers client-side routes with index.html, a missing asset with 404', async () => {
    for (const path of ['/dashboard', '/settings/profile', '/users/42/edit']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<title>spa</title>');
    }
    const missing = await get('/assets/missing-0123abcd.js');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });

  it('never shadows /auth/*, /.well-known/*, /healthz or /metrics', async () => {
    for (const path of ['/auth/nope', '/auth', '/.well-known/nope', '/auth/login']) {
      const res = await get(path);
      expect([404, 405], path).toContain(res.status);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
    }
    expect((await get('/auth/login')).headers.get('allow')).toBe('POST');
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/.well-known/jwks.json')).headers.get('content-type')).toMatch(/^application\/json/);
    expect(await (await get('/metrics')).text()).toContain('# HELP');
  });

  it('never serves dotfiles or anything outside the directory; bad encoding is a 400', async () => {
    for (const path of [
      '/.env',
      '/assets/../.env',
      '/..%2foutside.txt',
      '/%2e%2e/outside.txt',
      '/assets/..%5c..%5coutside.txt',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toMatch(/SECRET|outside/);
    }
    const bad = await get('/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_request' });
  });

  it('answers HEAD without a body and If-None-Match with 304', async () => {
    const head = await get('/assets/style.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('6');
    expect(await head.text()).toBe('');
    const etag = head.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"/);
    expect((await get('/assets/style.css', { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });
});

describe('tokenward serve › graceful shutdown', { timeout: 60_000 }, () => {
  it('on SIGTERM: refuses new connections, finishes the request in flight, closes the store, exits 0', async () => {
    const served = await startServe(['--shutdown-timeout', '10']);
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'correct horse battery staple' });
    const inFlight = await partialPost(served.port, '/auth/login', body, 10);
    await new Promise((r) => setTimeout(r, 200));
    served.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(await refused(served.port)).toBe(true);
    expect(served.child.exitCode).toBe(null); // still draining
    inFlight.sendRest();
    const answer = await inFlight.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).toContain('"code":"invalid_credentials"');
    expect(await served.exit).toBe(0);
    expect(served.stdout()).toContain('Tokenward stopping (SIGTERM): 1 request(s) in flight');
    expect(served.stdout().trim().split('\n').at(-1)).toBe('Tokenward stopped');
  });

  it('a request that never finishes is cut at --shutdown-timeout, and the process still exits 0', async () => {
    const served = await startServe(['--shutdown-timeout', '1']);
    const stuck = await partialPost(served.port, '/auth/login', '{"email":"a@example.com","password":"x"}', 5);
    await new Promise((r) => setTimeout(r, 200));
    const start = Date.now();
    served.child.kill('SIGTERM');
    expect(await served.exit).toBe(0);
    const took = Date.now() - start;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
    expect(served.stderr()).toContain('1 request(s) still running after 1 s; closing their connections');
    await stuck.answer; // the connection was closed
  });
});
