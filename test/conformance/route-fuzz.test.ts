import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBrowser, signupAs } from '../support/account.js';
import { createTestInstance, type TestInstance } from '../support/instance.js';

// Every route the server knows (auth routes and the demo API), every hostile body shape, with a
// valid session and CSRF header so requests get past the guards into the handlers: the answer is
// never a 5xx, always problem+json for an error, and never leaks an internal detail.

let t: TestInstance;
beforeAll(async () => {
  t = await createTestInstance();
});
afterAll(async () => {
  await t.close();
});

const LEAK =
  /at .*\.(ts|js):\d+|SQLITE|sqlite|postgres|kysely|TypeError|ReferenceError|undefined is not|Cannot read prop/i;

/** API.md: every error is problem+json, except `POST /auth/token`'s, which follow RFC 6749 §5.2. */
const OAUTH_ERROR_PATHS = new Set(['/auth/token']);

function errorShape(path: string): string {
  return OAUTH_ERROR_PATHS.has(path) ? 'an RFC 6749 error (application/json with error and code)' : 'problem+json';
}

function isContractError(path: string, res: Response, text: string): boolean {
  if (!OAUTH_ERROR_PATHS.has(path)) return res.headers.get('content-type') === 'application/problem+json';
  if (res.status === 405) return res.headers.get('content-type') === 'application/problem+json';
  if (res.headers.get('content-type') !== 'application/json') return false;
  const body = JSON.parse(text) as { error?: unknown; code?: unknown };
  return typeof body.error === 'string' && typeof body.code === 'string';
}

const BODIES: Array<[string, string | Uint8Array, string]> = [
  ['malformed JSON', '{"email":', 'application/json'],
  ['a JSON array', '[1,2,3]', 'application/json'],
  ['a JSON string', '"x"', 'application/json'],
  ['JSON null', 'null', 'application/json'],
  [
    'wrong member types',
    JSON.stringify({
      email: 1,
      password: [],
      code: {},
      text: 5,
      amount: '1',
      name: true,
      refresh_token: 3,
      grant_type: 9,
      totp: [],
    }),
    'application/json',
  ],
  [
    'prototype keys',
    '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}, "toString": 1}',
    'application/json',
  ],
  [
    'NUL bytes',
    JSON.stringify({ email: 'a\u0000@b.co', password: 'p\u0000assword!', code: '12\u00003456', text: '\u0000' }),
    'application/json',
  ],
  ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/json'],
  ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'application/json'],
  ['an oversized body', JSON.stringify({ text: 'x'.repeat(70 * 1024) }), 'application/json'],
  ['a form body', 'grant_type=password&username=%00&password[]=x', 'application/x-www-form-urlencoded'],
  ['text/plain', 'hello', 'text/plain'],
  ['a huge number', '{"amount": 1e400, "code": 1e400}', 'application/json'],
];

interface RouteInfo {
  method: string;
  path: string;
}

function routes(): RouteInfo[] {
  const seen = new Set<string>();
  const out: RouteInfo[] = [];
  for (const r of t.tw.app.routes) {
    if (r.method === 'ALL' || r.path.includes('*')) continue;
    if (r.method === 'GET' && !r.path.startsWith('/auth') && !r.path.startsWith('/api')) continue; // static pages
    const path = r.path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, 'fuzz-param');
    const key = `${r.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ method: r.method, path });
  }
  return out;
}

describe('every route answers hostile input with a 4xx problem+json, never a 5xx', () => {
  it('finds the routes to fuzz', () => {
    const list = routes().map((r) => `${r.method} ${r.path}`);
    expect(list).toContain('POST /auth/login');
    expect(list).toContain('POST /auth/token');
    expect(list).toContain('POST /api/notes');
    expect(list.length).toBeGreaterThan(20);
  });

  it('bodies, content types and query strings', async () => {
    const failures: string[] = [];
    for (const route of routes()) {
      // A fresh session per route: logout-style routes end the previous one.
      const b = deviceBrowser(t);
      await signupAs(b);
      const csrf = b.cookies.get('__Host-tw_csrf') ?? '';
      const variants: Array<{ name: string; init: RequestInit; query?: string }> = [];
      if (route.method === 'GET' || route.method === 'DELETE') {
        variants.push({
          name: 'hostile query',
          init: {},
          query: '?cursor=%00%ff&limit=-1&limit=1e99&returnTo=//evil.test&__proto__[x]=1',
        });
        variants.push({ name: 'array query', init: {}, query: `?cursor[]=1&${'a=1&'.repeat(500)}` });
      }
      for (const [name, body, type] of BODIES)
        variants.push({
          name,
          init: { body: body as RequestInit['body'] & object, headers: { 'content-type': type } },
        });
      for (const v of variants) {
        const headers = new Headers(v.init.headers);
        headers.set('x-csrf-token', csrf);
        headers.set('origin', 'http://localhost:3000');
        const method = route.method;
        const hasBody = method !== 'GET' && method !== 'HEAD';
        const res = await b.fetch(`${route.path}${v.query ?? ''}`, {
          method,
          headers,
          ...(hasBody && v.init.body !== undefined ? { body: v.init.body } : {}),
        });
        const text = await res.text();
        const where = `${method} ${route.path} with ${v.name}: ${res.status}`;
        if (res.status >= 500) failures.push(`${where} ${text.slice(0, 200)}`);
        else if (res.status >= 400 && !isContractError(route.path, res, text))
          failures.push(`${where} is not ${errorShape(route.path)} (${res.headers.get('content-type')})`);
        else if (LEAK.test(text)) failures.push(`${where} leaks: ${text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('hostile headers on every route: huge, duplicated and malformed auth headers', async () => {
    const failures: string[] = [];
    const headerSets: Array<[string, Record<string, string>]> = [
      ['a 12 KB bearer token', { authorization: `Bearer ${'a'.repeat(12_000)}` }],
      ['a DPoP scheme with a garbage proof', { authorization: 'DPoP abc.def.ghi', dpop: 'x'.repeat(3000) }],
      ['a garbage cookie header', { cookie: '__Host-tw_at=%%%; __Secure-tw_rt=twr_\u00ff; __Host-tw_csrf=;;;=;' }],
      ['a JWT-shaped cookie', { cookie: '__Host-tw_at=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }],
      ['a forged Origin', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
    ];
    for (const route of routes()) {
      for (const [name, headers] of headerSets) {
        const res = await t.request(route.path, { method: route.method, headers });
        const text = await res.text();
        const where = `${route.method} ${route.path} with ${name}: ${res.status}`;
        if (res.status >= 500) failures.push(`${where} ${text.slice(0, 200)}`);
        else if (res.status >= 400 && !isContractError(route.path, res, text))
          failures.push(`${where} is not ${errorShape(route.path)}`);
        else if (LEAK.test(text)) failures.push(`${where} leaks: ${text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('a known path with a wrong method is 405 problem+json with Allow, on auth and demo routes alike', async () => {
    const byPath = new Map<string, Set<string>>();
    for (const r of routes()) byPath.set(r.path, (byPath.get(r.path) ?? new Set()).add(r.method));
    const failures: string[] = [];
    for (const [path, methods] of byPath) {
      for (const method of ['OPTIONS', 'PUT', 'PATCH', 'DELETE', 'POST']) {
        if (methods.has(method)) continue;
        const res = await t.request(path, { method, headers: { 'sec-fetch-site': 'same-origin' } });
        const allow = res.headers.get('allow') ?? '';
        if (res.status !== 405 || res.headers.get('content-type') !== 'application/problem+json')
          failures.push(`${method} ${path}: ${res.status}`);
        else if (![...methods].every((m) => allow.includes(m)))
          failures.push(`${method} ${path}: Allow "${allow}" misses ${[...methods].join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
    expect(byPath.has('/api/notes')).toBe(true);
  });
});
