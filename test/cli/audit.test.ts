import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServerProcess, startDemoProcess } from '../support/process.js';
import { type CliRun, cleanEnv, runTokenward, TEST_PASSWORD } from './cli-helpers.js';

/**
 * `tokenward audit <url>` as a real process: every check passes against the real server (demo,
 * default and split cookie modes), and a deliberately broken server gets the FAILs it deserves.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-audit-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface AuditJson {
  checks: Array<{ status: 'PASS' | 'FAIL' | 'WARN'; check: string; detail: string }>;
  summary: { passed: number; warnings: number; failed: number };
  createdAccount: string | null;
}

function statusOf(run: CliRun, check: string): string | undefined {
  return run.stdout
    .split('\n')
    .find((line) => line.slice(6).startsWith(`${check}:`))
    ?.slice(0, 4);
}

function lineOf(run: CliRun, check: string): string {
  return run.stdout.split('\n').find((line) => line.slice(6).startsWith(`${check}:`)) ?? `(no line for ${check})`;
}

/** A demo server on the embedded store whose public origin is http://localhost:<port> (the audit reaches it on 127.0.0.1). */
async function startDemo(extra: Record<string, string> = {}): Promise<{ server: ServerProcess; origin: string }> {
  const port = await freePort();
  const server = await startDemoProcess(
    cleanEnv({
      TOKENWARD_DATA_DIR: tempDir(),
      TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
      TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
      ...extra,
    }),
    port,
  );
  return { server, origin: `http://localhost:${port}` };
}

describe('tokenward audit › against the real server', () => {
  let demo: { server: ServerProcess; origin: string };
  beforeAll(async () => {
    demo = await startDemo();
  });
  afterAll(async () => {
    await demo?.server.kill();
  });

  it('every check passes: one PASS line per check, the summary, exit 0', { timeout: 60_000 }, async () => {
    const run = await runTokenward(['audit', demo.server.url, '--origin', demo.origin], {});
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const results = lines.filter((l) => /^(PASS|FAIL|WARN) {2}/.test(l));
    expect(
      results.filter((l) => !l.startsWith('PASS')),
      run.stdout,
    ).toEqual([]);
    for (const check of [
      'https',
      'GET /healthz',
      'JWKS keys',
      'JWKS Cache-Control',
      'GET / X-Content-Type-Options',
      'GET / Referrer-Policy',
      'GET / X-Frame-Options',
      'GET / CSP frame-ancestors',
      'GET /auth/me Cache-Control',
      '404 problem+json',
      '405 problem+json',
      'POST /auth/signup',
      'cookie __Host-tw_at',
      'cookie __Secure-tw_rt',
      'cookie __Host-tw_csrf',
      'POST /auth/signup body',
      'cookie size',
      'CSRF cross-site POST',
      'JWT alg none',
      'JWT flipped signature',
      'refresh rotation',
      'refresh grace replay',
      'logout clears cookies',
      'revoked access token',
    ]) {
      expect(statusOf(run, check), `${check}\n${run.stdout}`).toBe('PASS');
    }
    expect(lines.at(-1)).toMatch(new RegExp(`^Summary: ${results.length} passed, 0 warnings, 0 failed — OK$`));
    expect(run.stdout).toMatch(/note: the audit signed up tokenward-audit-[0-9a-f]{12}@example\.com/);
    expect(run.stdout).not.toMatch(/eyJ|twr_/);
  });

  it('--json prints one document with every check and the summary', { timeout: 60_000 }, async () => {
    const run = await runTokenward(['audit', demo.server.url, '--origin', demo.origin, '--json'], {});
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as AuditJson;
    expect(body.summary.failed).toBe(0);
    expect(body.summary.warnings).toBe(0);
    expect(body.summary.passed).toBe(body.checks.length);
    expect(body.checks.length).toBeGreaterThan(30);
    expect(body.createdAccount).toMatch(/^tokenward-audit-[0-9a-f]{12}@example\.com$/);
  });

  it('--email/--password log into an existing account instead of signing up', { timeout: 60_000 }, async () => {
    const email = `audit-login-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const signup = await fetch(`${demo.server.url}/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email, password: TEST_PASSWORD }),
    });
    expect(signup.status).toBe(201);
    const run = await runTokenward(['audit', demo.server.url, '--origin', demo.origin, '--email', email], {
      TOKENWARD_AUDIT_PASSWORD: TEST_PASSWORD,
    });
    expect(run.code, run.stdout).toBe(0);
    expect(lineOf(run, 'POST /auth/login')).toBe(`PASS  POST /auth/login: 200, session started for ${email}`);
    expect(statusOf(run, 'POST /auth/signup')).toBeUndefined();
    expect(run.stdout).not.toContain('note: the audit signed up');

    const wrong = await runTokenward(
      ['audit', demo.server.url, '--origin', demo.origin, '--email', email, '--password', 'not the password'],
      {},
    );
    expect(wrong.code).toBe(1);
    expect(lineOf(wrong, 'POST /auth/login')).toMatch(
      /^FAIL {2}POST \/auth\/login: 401 invalid_credentials \(expected 200\); the session checks did not run$/,
    );
  });

  it('--no-signup runs only the anonymous checks and says what it skipped (WARN, exit 0)', {
    timeout: 60_000,
  }, async () => {
    const run = await runTokenward(['audit', demo.server.url, '--origin', demo.origin, '--no-signup'], {});
    expect(run.code).toBe(0);
    expect(statusOf(run, 'session checks')).toBe('WARN');
    expect(statusOf(run, 'JWKS keys')).toBe('PASS');
    expect(statusOf(run, 'cookie __Host-tw_at')).toBeUndefined();
    expect(run.stdout).toMatch(/Summary: \d+ passed, 1 warning, 0 failed — OK/);
  });

  it("without --origin the URL's origin is the app's (Sec-Fetch-Site: same-origin): the session checks pass", {
    timeout: 60_000,
  }, async () => {
    const run = await runTokenward(['audit', demo.server.url, '--timeout', '5'], {});
    expect(run.code, run.stdout).toBe(0);
    expect(statusOf(run, 'POST /auth/signup')).toBe('PASS');
    expect(run.stdout.split('\n')[0]).toBe(`Auditing ${demo.server.url} against the Tokenward contract (API.md) …`);
  });
});

describe('tokenward audit › split cookie mode', () => {
  let demo: { server: ServerProcess; origin: string };
  beforeAll(async () => {
    demo = await startDemo({ TOKENWARD_COOKIES_SPLIT: 'true' });
  });
  afterAll(async () => {
    await demo?.server.kill();
  });

  it('accepts __Host-tw_at_hp (readable) + __Host-tw_at_sig (HttpOnly) and forges tokens through them', {
    timeout: 60_000,
  }, async () => {
    const run = await runTokenward(['audit', demo.server.url, '--origin', demo.origin], {});
    expect(run.code, run.stdout).toBe(0);
    expect(lineOf(run, 'cookie __Host-tw_at_hp')).toMatch(
      /^PASS {2}cookie __Host-tw_at_hp: Secure; SameSite=Lax; Path=\/; Max-Age=\d+$/,
    );
    expect(lineOf(run, 'cookie __Host-tw_at_sig')).toMatch(
      /^PASS {2}cookie __Host-tw_at_sig: HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=\d+$/,
    );
    expect(statusOf(run, 'JWT alg none')).toBe('PASS');
    expect(statusOf(run, 'logout clears cookies')).toBe('PASS');
  });
});

/**
 * A server that gets everything wrong: no security headers, a private key in its JWKS, cookies
 * without HttpOnly/SameSite/Max-Age, tokens in the body, no CSRF check, no signature check, no
 * rotation, a logout that clears nothing, and plain-text errors.
 */
function brokenServer(): (req: IncomingMessage, res: ServerResponse) => void {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ sub: 'u1', sid: 's1' })).toString('base64url');
  const token = `${header}.${payload}.${Buffer.alloc(64, 7).toString('base64url')}`;
  const cookies = [
    `__Host-tw_at=${token}; Path=/; Secure; SameSite=Lax`,
    '__Secure-tw_rt=twr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; Path=/; Secure; HttpOnly',
    '__Host-tw_csrf=csrf-value-0123456789abcdef; Path=/; Secure; HttpOnly; SameSite=Lax',
  ];
  let email = '';
  type Reply = [status: number, body: string, headers?: Record<string, string | string[]>];
  const text = { 'content-type': 'text/plain' };
  const reply = (method: string, path: string, cookie: string, body: string): Reply => {
    if (path === '/healthz') return [200, '{"status":"ok"}'];
    if (path === '/') return [200, '<!doctype html><title>app</title>', { 'content-type': 'text/html' }];
    if (path === '/.well-known/jwks.json')
      return [
        200,
        JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d: 'BBBB', kid: 'k1', alg: 'EdDSA' }] }),
      ];
    // Any cookie named tw_at passes: alg none and forged signatures included.
    if (path === '/auth/me')
      return cookie.includes('tw_at=') ? [200, JSON.stringify({ user: { email } })] : [401, 'unauthorized', text];
    if (path === '/auth/signup' && method === 'POST') {
      email = (JSON.parse(body) as { email: string }).email;
      return [201, JSON.stringify({ user: { email }, access_token: token }), { 'set-cookie': cookies }];
    }
    if (path === '/auth/logout-all' || path === '/auth/logout') return [204, ''];
    if (path === '/auth/refresh') return [200, '{}', { 'set-cookie': cookies }];
    return [404, 'not found', text];
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      const [status, content, headers = {}] = reply(
        req.method ?? 'GET',
        new URL(req.url ?? '/', 'http://x').pathname,
        req.headers.cookie ?? '',
        body,
      );
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(content);
    });
  };
}

describe('tokenward audit › against a broken server', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer(brokenServer());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports a FAIL line for each broken rule and exits 1', { timeout: 60_000 }, async () => {
    const run = await runTokenward(['audit', url], {});
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const expected: Array<[string, RegExp]> = [
      ['JWKS keys', /publishes private\/symmetric member d/],
      ['JWKS Cache-Control', /\(missing\): expected "public, max-age=…"/],
      ['GET / X-Content-Type-Options', /\(missing\): expected nosniff/],
      ['GET / Referrer-Policy', /\(missing\)/],
      ['GET / X-Frame-Options', /\(missing\): expected DENY/],
      ['GET / CSP frame-ancestors', /no Content-Security-Policy/],
      ['GET /auth/me (no session)', /no WWW-Authenticate: Bearer/],
      ['GET /auth/me Cache-Control', /expected no-store/],
      ['404 problem+json', /Content-Type text\/plain/],
      ['405 problem+json', /status 204, expected 405.*no Allow header/],
      ['POST /auth/signup Cache-Control', /expected no-store/],
      ['cookie __Host-tw_at', /not HttpOnly.*no Max-Age|not HttpOnly.*Max-Age=\(missing\)/],
      ['cookie __Secure-tw_rt', /SameSite=\(missing\), expected Strict; Path=\/, expected \/auth/],
      ['cookie __Host-tw_csrf', /HttpOnly, but the app must be able to read it/],
      ['POST /auth/signup body', /value of __Host-tw_at is in the body.*a JWT is in the body.*body has access_token/],
      ['CSRF cross-site POST', /→ 204, expected 403/],
      ['JWT alg none', /→ 200, 200, expected 401/],
      ['JWT flipped signature', /→ 200, expected 401/],
      ['refresh rotation', /refresh token did not change.*access token did not change/],
      ['logout clears cookies', /__Host-tw_at not cleared; __Secure-tw_rt not cleared; __Host-tw_csrf not cleared/],
      ['revoked access token', /still accepted \(200\) 1500 ms after logout/],
    ];
    for (const [check, detail] of expected) {
      const line = lineOf(run, check);
      expect(line.slice(0, 4), `${check}\n${run.stdout}`).toBe('FAIL');
      expect(line, check).toMatch(detail);
    }
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^Summary: \d+ passed, \d+ warnings?, \d+ failed — FAILED$/);
  });

  it('an unreachable deployment is one FAIL and exit 1', async () => {
    const port = await freePort();
    const run = await runTokenward(['audit', `http://127.0.0.1:${port}`, '--timeout', '3'], {});
    expect(run.code).toBe(1);
    expect(lineOf(run, 'GET /healthz')).toMatch(/^FAIL {2}GET \/healthz: GET \/healthz: ECONNREFUSED$/);
    expect(lineOf(run, 'reachable')).toContain('nothing else was checked');
  });

  it('plain http on a host that is not loopback is a WARN (here also unreachable: FAIL, exit 1)', async () => {
    const run = await runTokenward(['audit', 'http://tokenward-audit.invalid', '--timeout', '3'], {});
    expect(run.code).toBe(1);
    expect(lineOf(run, 'https')).toBe(
      'WARN  https: plain http on tokenward-audit.invalid: cookies and tokens travel unencrypted; serve Tokenward over HTTPS',
    );
    expect(statusOf(run, 'GET /healthz')).toBe('FAIL');
  });

  it('usage errors exit 2: no URL, a URL that is not http(s), --no-signup with --email, --email without a password', async () => {
    const cases: Array<[string[], string]> = [
      [['audit'], '`audit` needs the URL'],
      [['audit', 'ftp://example.com'], 'must be an http(s) URL'],
      [['audit', 'not a url'], 'must be an http(s) URL'],
      [['audit', url, '--origin', 'example.com'], '--origin must be an http(s) URL'],
      [
        ['audit', url, '--no-signup', '--email', 'a@example.com', '--password', 'x'],
        '--no-signup and --email exclude each other',
      ],
      [['audit', url, '--email', 'a@example.com'], '--email and --password'],
      [['audit', url, '--timeout', '0'], '--timeout must be a whole number from 1'],
      [['audit', url, '--limit', '3'], '--limit only applies to'],
    ];
    for (const [args, message] of cases) {
      const run = await runTokenward(args, {});
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(message);
    }
  });
});

describe('tokenward audit › TLS', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // A self-signed certificate, like a staging deployment's.
    const dir = tempDir();
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      brokenServer(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('a certificate that does not verify is a FAIL; --insecure accepts it and says so (WARN)', {
    timeout: 60_000,
  }, async () => {
    const strict = await runTokenward(['audit', url, '--no-signup', '--timeout', '5'], {});
    expect(strict.code).toBe(1);
    expect(lineOf(strict, 'https')).toBe('PASS  https: served over HTTPS');
    expect(lineOf(strict, 'GET /healthz')).toMatch(
      /^FAIL {2}GET \/healthz: GET \/healthz: .*(SELF_SIGNED|self.signed|certificate)/i,
    );

    const insecure = await runTokenward(['audit', url, '--no-signup', '--insecure', '--timeout', '5'], {});
    expect(lineOf(insecure, 'TLS verification')).toBe(
      'WARN  TLS verification: off (--insecure): the certificate was not checked',
    );
    expect(statusOf(insecure, 'GET /healthz')).toBe('PASS');
    expect(lineOf(insecure, 'hsts')).toMatch(/^WARN {2}hsts: no Strict-Transport-Security header/);
    // The broken server's own faults are still reported.
    expect(statusOf(insecure, 'JWKS keys')).toBe('FAIL');
    expect(insecure.code).toBe(1);
  });
});
