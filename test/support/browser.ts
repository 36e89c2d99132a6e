/**
 * Real-browser test support: a throwaway TLS certificate for app.test and evil.test, the real
 * Tokenward server + demo behind node:https on app.test, a tiny attacker server on evil.test,
 * and Debian's Chromium driven by playwright-core.
 *
 * Chromium resolves both names to 127.0.0.1 (`--host-resolver-rules`) and trusts exactly our
 * certificate's key (`--ignore-certificate-errors-spki-list`), so cookies, `__Host-` prefixes,
 * SameSite, Sec-Fetch-* and CSP behave as on a real HTTPS deployment with two distinct sites.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { build } from 'esbuild';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { DEMO_CSP, mountDemo } from '../../demo/app.js';
import { buildClientBundle } from '../../demo/bundle.js';
import type { TokenwardOptions } from '../../src/config.js';
import { createTokenward, type Tokenward } from '../../src/create-tokenward.js';
import type { Clock } from '../../src/kernel/ports.js';

/** Debian's Chromium; `npm test` installs it on a fresh machine (tools/test.mjs). */
export const CHROMIUM = '/usr/bin/chromium';
export const APP_HOST = 'app.test';
export const EVIL_HOST = 'evil.test';
/** A sibling subdomain: same-site with app.test, so SameSite cookies do go along (only the CSRF rule stops it). */
export const SIBLING_HOST = 'evil.app.test';
export const PASSWORD = 'correct horse battery staple';

/** Base64url of a JSON header: what every JWT starts with, plus the refresh-token prefix. */
export const JWT_RE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
export const REFRESH_RE = /twr_[A-Za-z0-9_-]{8,}/;

export const hasChromium = (): boolean => existsSync(CHROMIUM);

/**
 * Throws when Chromium is missing: the browser suite is part of `npm test` and must fail, not
 * skip. Test files call it in `beforeEach` (and skip their own setup in `beforeAll` when
 * `!hasChromium()`), so every test fails with this message instead of being reported skipped.
 */
export function requireChromium(): void {
  if (!hasChromium()) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the browser tests need it. Install it with \`apt-get install -y chromium\` (\`npm test\` does this on a fresh machine).`,
    );
  }
}

export interface Tls {
  key: string;
  cert: string;
  /** Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (for Chromium's SPKI allow-list). */
  spki: string;
}

/** A self-signed P-256 certificate for app.test, evil.test and evil.app.test, valid for two days. */
export function makeCertificate(hosts: string[] = [APP_HOST, EVIL_HOST, SIBLING_HOST]): Tls {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-tls-'));
  try {
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
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        `/CN=${hosts[0]}`,
        '-addext',
        `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
      ],
      { stdio: 'pipe' },
    );
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const der = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
    return { key, cert, spki: createHash('sha256').update(der).digest('base64') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Real time plus an offset the test can move forward (expires access tokens on demand). */
export class ShiftClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

/** One request that reached a server, with what the browser sent and what it got. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  origin: string | null;
  secFetchSite: string | null;
  /** Names of the cookies the request carried. */
  cookies: string[];
  at: number;
}

function record(request: Request, status: number): SeenRequest {
  const cookie = request.headers.get('cookie') ?? '';
  return {
    method: request.method,
    path: new URL(request.url).pathname,
    status,
    origin: request.headers.get('origin'),
    secFetchSite: request.headers.get('sec-fetch-site'),
    cookies: cookie ? cookie.split(/;\s*/).map((p) => p.slice(0, p.indexOf('='))) : [],
    at: Date.now(),
  };
}

async function listen(
  tls: Tls,
  fetch: (request: Request, env: unknown) => Promise<Response> | Response,
): Promise<{ server: ServerType; port: number }> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      {
        fetch,
        port: 0,
        hostname: '127.0.0.1',
        createServer: https.createServer,
        serverOptions: { key: tls.key, cert: tls.cert },
      },
      () => resolve(s),
    );
  });
  return { server, port: (server.address() as AddressInfo).port };
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as https.Server).closeAllConnections?.();
  });
}

let sdkBundle: Promise<string> | undefined;
/** The browser SDK (src/client) as one ESM file, built like tools/size.mjs does. */
export function bundleSdk(): Promise<string> {
  sdkBundle ??= build({
    entryPoints: [fileURLToPath(new URL('../../src/client/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  }).then((r) => r.outputFiles[0]?.text ?? '');
  return sdkBundle;
}

/**
 * Test-only page (`/__test/sdk`) that loads the SDK and exposes `window.tw`:
 * `{ client, createClient, states }` (states: every onChange, with a timestamp).
 */
const HARNESS_JS = `import { createClient } from '/__test/sdk.js';
const client = createClient();
const states = [];
client.onChange((s) => states.push({ status: s.status, at: Date.now() }));
window.tw = { client, createClient, states };
document.body.dataset.ready = '1';
`;
const HARNESS_HTML =
  '<!doctype html><html><head><meta charset="utf-8"><title>sdk harness</title><script type="module" src="/__test/harness.js"></script></head><body></body></html>';

export interface AppServer {
  tw: Tokenward;
  /** https://app.test:<port> */
  origin: string;
  port: number;
  clock: ShiftClock;
  /** Every request that reached the app, in arrival order (status filled when answered). */
  requests: SeenRequest[];
  count: (method: string, path: string) => number;
  close: () => Promise<void>;
}

/**
 * The real Tokenward server with the demo mounted (SPA bundled from demo/web like `npm start`),
 * on a temp SQLite data dir, over HTTPS, public origin https://app.test:<port>. Also serves the
 * SDK harness page at /__test/sdk. The server's clock is `app.clock` (advance it to expire tokens).
 */
export async function startApp(
  tls: Tls,
  options: TokenwardOptions = {},
  { ui = true }: { ui?: boolean } = {},
): Promise<AppServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-browser-'));
  const clock = new ShiftClock();
  const requests: SeenRequest[] = [];
  let handler: ((request: Request, env: unknown) => Promise<Response>) | undefined;
  const { server, port } = await listen(tls, async (request, env) => {
    const seen = record(request, 0);
    requests.push(seen);
    if (!handler) return new Response('starting', { status: 503 });
    const response = await handler(request, env);
    seen.status = response.status;
    return response;
  });
  const origin = `https://${APP_HOST}:${port}`;
  const tw = await createTokenward(
    {
      publicOrigin: origin,
      dataDir,
      logLevel: 'silent',
      limitLoginPerIp: '100000/1m',
      limitSignupPerIp: '100000/1m',
      ...options,
    },
    { clock },
  );
  // `ui: false` (SDK-only tests): the demo API without bundling the SPA from demo/web.
  mountDemo(tw, { assets: ui ? await buildClientBundle() : {} });
  const sdk = await bundleSdk();
  const js = (body: string) => () =>
    new Response(body, {
      headers: {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Content-Security-Policy': DEMO_CSP,
        'Cache-Control': 'no-store',
      },
    });
  tw.app.get('/__test/sdk.js', js(sdk));
  tw.app.get('/__test/harness.js', js(HARNESS_JS));
  tw.app.get(
    '/__test/sdk',
    () =>
      new Response(HARNESS_HTML, {
        headers: {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': DEMO_CSP,
          'Cache-Control': 'no-store',
        },
      }),
  );
  handler = (request, env) => tw.app.fetch(request, env as never) as Promise<Response>;
  return {
    tw,
    origin,
    port,
    clock,
    requests,
    count: (method, path) => requests.filter((r) => r.method === method && r.path === path).length,
    close: async () => {
      await closeServer(server);
      await tw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface EvilServer {
  /** https://evil.test:<port> */
  origin: string;
  /** The same server under the same-site sibling name: https://evil.app.test:<port> */
  siblingOrigin: string;
  requests: SeenRequest[];
  close: () => Promise<void>;
}

/** The attacker's site: serves `pages[path]` as HTML (no CSP), 204 for anything else; logs every request. */
export async function startEvil(tls: Tls, pages: Record<string, string> = {}): Promise<EvilServer> {
  const requests: SeenRequest[] = [];
  const { server, port } = await listen(tls, (request) => {
    const path = new URL(request.url).pathname;
    const page = pages[path];
    const response =
      page === undefined
        ? new Response(null, { status: 204 })
        : new Response(page, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
    requests.push(record(request, response.status));
    return response;
  });
  return {
    origin: `https://${EVIL_HOST}:${port}`,
    siblingOrigin: `https://${SIBLING_HOST}:${port}`,
    requests,
    close: () => closeServer(server),
  };
}

/** Chromium with a fresh profile (playwright's temp --user-data-dir), trusting only our certificate. */
export async function launchBrowser(tls: Tls): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${tls.spki}`,
      `--host-resolver-rules=MAP ${APP_HOST} 127.0.0.1, MAP ${EVIL_HOST} 127.0.0.1, MAP ${SIBLING_HOST} 127.0.0.1`,
    ],
  });
}

/** A new browser context ("another browser": own cookie jar, storage, locks, channels). */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTPS request from Node (not the browser) to the app, e.g. to replay a stolen cookie. */
export function httpsRequest(
  tls: Tls,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PlainResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: init.method ?? 'GET',
        servername: u.hostname,
        ca: tls.cert,
        agent: false,
        headers: { Host: u.host, ...(init.headers ?? {}) },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

let counter = 0;
/** A unique email for this run. */
export function newEmail(tag = 'user'): string {
  counter += 1;
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${counter}@example.com`;
}

/** Creates an account over HTTP (no browser), as a fixture. */
export async function signupViaApi(tls: Tls, app: AppServer, email: string, password = PASSWORD): Promise<void> {
  const res = await httpsRequest(tls, `${app.origin}/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: app.origin, 'Sec-Fetch-Site': 'same-origin' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.body}`);
}

/** Logs in through the demo SPA's login form and waits for the signed-in view. */
export async function uiLogin(page: Page, app: AppServer, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${app.origin}/login`);
  const form = page.locator('form#login-form');
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=password]').fill(password);
  await form.locator('[type=submit]').first().click();
  await page.locator('[data-testid=user-email]').filter({ hasText: email }).first().waitFor({ state: 'visible' });
}

/** Opens the SDK harness page; resolves once `window.tw` exists. */
export async function openHarness(context: BrowserContext, app: AppServer): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${app.origin}/__test/sdk`);
  await page.waitForFunction('window.tw !== undefined');
  return page;
}

/** Access and refresh cookies of the app as the browser holds them (read by the test, not the page). */
export async function sessionCookies(context: BrowserContext, app: AppServer): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of await context.cookies([app.origin, `${app.origin}/auth/refresh`])) out[c.name] = c.value;
  return out;
}

/** Polls `probe` every `everyMs` until it returns true; resolves the elapsed ms or throws after `timeoutMs`. */
export async function within(timeoutMs: number, probe: () => Promise<boolean>, everyMs = 25): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
