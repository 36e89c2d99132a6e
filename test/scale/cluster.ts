import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { migrateDatabase } from '../../src/store/index.js';
import { Browser, parseSetCookies } from '../support/instance.js';
import { type ServerProcess, startDemoProcess } from '../support/process.js';

/** Every node of a deployment shares these; http://localhost keeps the secure cookie names on plain http. */
export const PUBLIC_ORIGIN = 'http://localhost:3000';
export const PASSWORD = 'correct horse battery staple';

/** Tokenward nodes as separate processes on one PostgreSQL (and Redis, when given). */
export interface Cluster {
  nodes: ServerProcess[];
  close: () => Promise<void>;
}

/**
 * Migrates the database once (like `tokenward migrate` before a deploy), then starts `count`
 * demo servers sharing the database, the secret and the public origin.
 */
export async function startCluster(options: {
  databaseUrl: string;
  redisUrl?: string | undefined;
  count: number;
  env?: Record<string, string>;
}): Promise<Cluster> {
  await migrateDatabase({ databaseUrl: options.databaseUrl });
  const secret = randomBytes(48).toString('base64url');
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-scale-'));
  const env: Record<string, string> = {
    TOKENWARD_DATABASE_URL: options.databaseUrl,
    TOKENWARD_SECRET: secret,
    TOKENWARD_PUBLIC_ORIGIN: PUBLIC_ORIGIN,
    TOKENWARD_DATA_DIR: dataDir,
    TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
    TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
    TOKENWARD_LOG_LEVEL: 'error',
    ...(options.redisUrl ? { TOKENWARD_REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  };
  const started = await Promise.allSettled(Array.from({ length: options.count }, () => startDemoProcess(env)));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const close = async (): Promise<void> => {
    // A node that died during the test is a failure of its own: show why.
    for (const node of nodes) {
      if (node.child.exitCode !== null || node.child.signalCode !== null)
        console.error(
          `[scale] node ${node.url} exited (${node.child.exitCode ?? node.child.signalCode}):\n${node.output()}`,
        );
    }
    await Promise.allSettled(nodes.map((n) => n.kill()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { nodes, close };
}

/** A browser whose requests go to whichever node the test names (a load balancer without stickiness). */
export class ClusterBrowser {
  readonly #browser: Browser;
  #target: ServerProcess | undefined;

  constructor() {
    this.#browser = new Browser(async (path, init) => {
      if (!this.#target) throw new Error('no node selected');
      return fetch(new URL(path, this.#target.url), { ...init, signal: AbortSignal.timeout(15_000) });
    }, PUBLIC_ORIGIN);
  }

  get cookies(): Map<string, string> {
    return this.#browser.cookies;
  }

  /** Sends one request to `node` with this browser's cookies (and `Sec-Fetch-Site: same-origin` on writes). */
  on(node: ServerProcess | undefined, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    if (!node) throw new Error('no such node');
    this.#target = node;
    return this.#browser.fetch(path, init);
  }

  accessToken(): string {
    const token = this.cookies.get('__Host-tw_at');
    if (!token) throw new Error('no access token cookie');
    return token;
  }

  refreshToken(): string {
    const token = this.cookies.get('__Secure-tw_rt');
    if (!token) throw new Error('no refresh token cookie');
    return token;
  }

  /** The browser's device id (`__Host-tw_dev`), which it sends with every refresh. */
  deviceId(): string {
    const id = this.cookies.get('__Host-tw_dev');
    if (!id) throw new Error('no device cookie');
    return id;
  }
}

/**
 * A GET with one retry when a kept-alive socket was closed by the server just as it was reused
 * (Node's 5 s keep-alive timeout racing undici's pool): a transport race, not an answer.
 */
export async function get(url: URL, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw error;
    return fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  }
}

/** A fresh random email. */
export function freshEmail(): string {
  return `scale-${crypto.randomUUID().slice(0, 12)}@example.com`;
}

/** Signs up a new user on `node`; the browser holds the session cookies. */
export async function signupOn(
  node: ServerProcess | undefined,
  browser = new ClusterBrowser(),
  email = freshEmail(),
): Promise<{ browser: ClusterBrowser; email: string; userId: string; sessionId: string }> {
  const response = await browser.on(node, '/auth/signup', { method: 'POST', json: { email, password: PASSWORD } });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { user: { id: string }; session: { id: string } };
  return { browser, email, userId: body.user.id, sessionId: body.session.id };
}

/** A login attempt with no cookies (a password-guessing client). */
export function loginAttempt(node: ServerProcess | undefined, email: string, password: string): Promise<Response> {
  if (!node) throw new Error('no such node');
  return fetch(new URL('/auth/login', node.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(15_000),
  });
}

/** `GET /api/profile` (the demo reads the user from the store) with `Authorization: Bearer` (no cookies). */
export function profileWithBearer(node: ServerProcess | undefined, accessToken: string): Promise<Response> {
  if (!node) throw new Error('no such node');
  return get(new URL('/api/profile', node.url), { authorization: `Bearer ${accessToken}` });
}

/** `GET /api/ping/protected` (the middleware only, no store read) with `Authorization: Bearer`. */
export function pingWithBearer(node: ServerProcess | undefined, accessToken: string): Promise<Response> {
  if (!node) throw new Error('no such node');
  return get(new URL('/api/ping/protected', node.url), { authorization: `Bearer ${accessToken}` });
}

/**
 * `POST /auth/refresh` with the given refresh cookie and, when given, the device cookie of the
 * browser presenting it (a browser always sends both); returns the status and the successor (if any).
 */
export async function refreshWith(
  node: ServerProcess | undefined,
  refreshToken: string,
  options: { device?: string | undefined; userAgent?: string } = {},
): Promise<{ status: number; successor: string | undefined; cleared: boolean; body: Record<string, unknown> }> {
  if (!node) throw new Error('no such node');
  const cookie =
    options.device === undefined
      ? `__Secure-tw_rt=${refreshToken}`
      : `__Secure-tw_rt=${refreshToken}; __Host-tw_dev=${options.device}`;
  const response = await fetch(new URL('/auth/refresh', node.url), {
    method: 'POST',
    headers: {
      cookie,
      'sec-fetch-site': 'same-origin',
      ...(options.userAgent === undefined ? {} : { 'user-agent': options.userAgent }),
    },
    signal: AbortSignal.timeout(15_000),
  });
  const cookies = parseSetCookies(response);
  const rt = cookies.get('__Secure-tw_rt');
  const text = await response.text();
  return {
    status: response.status,
    successor: rt && rt.attributes.get('max-age') !== '0' && rt.value !== '' ? rt.value : undefined,
    cleared: rt?.attributes.get('max-age') === '0',
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** `GET /healthz`: status code and `status` member (null for a problem response). */
export async function health(
  node: ServerProcess | undefined,
): Promise<{ code: number; status: string | null; contentType: string | null }> {
  if (!node) throw new Error('no such node');
  const response = await get(new URL('/healthz', node.url));
  const body = (await response.json()) as { status?: unknown };
  return {
    code: response.status,
    status: typeof body.status === 'string' ? body.status : null,
    contentType: response.headers.get('content-type'),
  };
}

/** Polls until `condition` holds; resolves with the elapsed milliseconds. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Logs out on `from` and measures how long until `to` rejects the old access token
 * (from the moment the logout was sent to the first 401 seen by `to`, polling every 10 ms).
 */
export async function measureRevocation(
  from: ServerProcess | undefined,
  to: ServerProcess | undefined,
  browser: ClusterBrowser,
): Promise<number> {
  const accessToken = browser.accessToken();
  expect((await profileWithBearer(to, accessToken)).status).toBe(200);
  const started = performance.now();
  const logout = await browser.on(from, '/auth/logout', { method: 'POST' });
  expect(logout.status).toBe(204);
  // The logging-out node itself rejects it at once.
  expect((await profileWithBearer(from, accessToken)).status).toBe(401);
  for (;;) {
    const response = await profileWithBearer(to, accessToken);
    if (response.status === 401) {
      const body = (await response.json()) as { code?: string };
      expect(body.code).toBe('invalid_token');
      return performance.now() - started;
    }
    expect(response.status).toBe(200);
    if (performance.now() - started > 5000) throw new Error('the revocation did not reach the other node within 5 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
