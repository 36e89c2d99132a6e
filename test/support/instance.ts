import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { mountDemo } from '../../demo/app.js';
import type { TokenwardOptions } from '../../src/config.js';
import { createTokenward, type Tokenward, type TokenwardDependencies } from '../../src/create-tokenward.js';
import type { Clock } from '../../src/kernel/ports.js';

/** A frozen, steppable clock. */
export class TestClock implements Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface TestInstance {
  tw: Tokenward;
  /** Base URL of the real listening server (http://127.0.0.1:port). */
  url: string;
  dataDir: string;
  /** Requests through the real handler (no socket): `app.request()`-style. */
  request: (path: string, init?: RequestInit) => Promise<Response>;
  close: () => Promise<void>;
}

/**
 * A ready Tokenward with the demo routes, on a real SQLite file in a temp dir, listening on a
 * random loopback port. Limits are generous unless a test sets them.
 */
export async function createTestInstance(
  options: TokenwardOptions = {},
  deps: TokenwardDependencies & { dataDir?: string; listen?: boolean } = {},
): Promise<TestInstance> {
  const dataDir = deps.dataDir ?? mkdtempSync(join(tmpdir(), 'tokenward-test-'));
  const tw = await createTokenward(
    {
      publicOrigin: 'http://localhost:3000',
      dataDir,
      logLevel: 'silent',
      limitLoginPerIp: '100000/1m',
      limitSignupPerIp: '100000/1m',
      ...options,
    },
    deps,
  );
  mountDemo(tw);
  let server: ServerType | undefined;
  let url = '';
  if (deps.listen !== false) {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: tw.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const origin = tw.config.publicOrigin;
  return {
    tw,
    url,
    dataDir,
    request: async (path, init = {}) => tw.fetch(new Request(new URL(path, origin), init), { ip: '203.0.113.7' }),
    close: async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await tw.close();
      if (!deps.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects Set-Cookie headers into name → {value, attributes}. */
export function parseSetCookies(
  response: Response,
): Map<string, { value: string; attributes: Map<string, string | true>; raw: string }> {
  const out = new Map<string, { value: string; attributes: Map<string, string | true>; raw: string }>();
  for (const raw of response.headers.getSetCookie()) {
    const [pair, ...attrs] = raw.split(';').map((s) => s.trim());
    const eq = (pair ?? '').indexOf('=');
    const name = (pair ?? '').slice(0, eq);
    const attributes = new Map<string, string | true>();
    for (const a of attrs) {
      const i = a.indexOf('=');
      if (i === -1) attributes.set(a.toLowerCase(), true);
      else attributes.set(a.slice(0, i).toLowerCase(), a.slice(i + 1));
    }
    out.set(name, { value: (pair ?? '').slice(eq + 1), attributes, raw });
  }
  return out;
}

/** A tiny cookie jar that follows Set-Cookie like a browser on one origin (ignores Path scoping except for refresh). */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly send: (path: string, init?: RequestInit) => Promise<Response>,
    readonly origin = 'http://localhost:3000',
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.cookieHeader());
    if (!headers.has('sec-fetch-site') && init.method && init.method !== 'GET')
      headers.set('sec-fetch-site', 'same-origin');
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    const { json: _json, ...rest } = init;
    const response = await this.send(path, { ...rest, headers, ...(body === undefined ? {} : { body }) });
    for (const [name, c] of parseSetCookies(response)) {
      if (c.attributes.get('max-age') === '0' || c.value === '') this.cookies.delete(name);
      else this.cookies.set(name, c.value);
    }
    return response;
  }
}

export async function signup(
  browser: Browser,
  email = `user${Math.random().toString(36).slice(2)}@example.com`,
  password = 'correct horse battery staple',
): Promise<{ email: string; password: string; response: Response }> {
  const response = await browser.fetch('/auth/signup', { method: 'POST', json: { email, password } });
  return { email, password, response };
}
