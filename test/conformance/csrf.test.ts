import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTestInstance, signup, type TestInstance } from '../support/instance.js';

let t: TestInstance;
let b: Browser;
beforeAll(async () => {
  t = await createTestInstance({ trustedOrigins: 'https://admin.example.com' });
  b = new Browser(t.request);
  await signup(b);
});
afterAll(async () => {
  await t.close();
});

const post = (headers: Record<string, string>, cookie = b.cookieHeader()) =>
  t.request('/api/notes', {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ text: 'x' }),
  });

describe('CSRF › layer 1, Fetch Metadata', () => {
  it.each(['same-origin', 'none'])('Sec-Fetch-Site: %s passes', async (site) => {
    expect((await post({ 'sec-fetch-site': site })).status).toBe(201);
  });
  it.each(['cross-site', 'same-site'])('Sec-Fetch-Site: %s is rejected without a trusted Origin', async (site) => {
    const res = await post({ 'sec-fetch-site': site, origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('csrf_rejected');
  });
  it('cross-site passes from a trusted origin', async () => {
    expect((await post({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example.com' })).status).toBe(201);
  });
  it('cross-site without Origin is rejected', async () => {
    expect((await post({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });
  it('an unknown Sec-Fetch-Site value is rejected', async () => {
    expect((await post({ 'sec-fetch-site': 'weird' })).status).toBe(403);
  });
});

describe('CSRF › layer 2, Origin', () => {
  it('the public origin passes', async () => {
    expect((await post({ origin: 'http://localhost:3000' })).status).toBe(201);
  });
  it('a trusted origin passes', async () => {
    expect((await post({ origin: 'https://admin.example.com' })).status).toBe(201);
  });
  it.each(['https://evil.example', 'null', 'http://localhost:3001', 'http://localhost:3000.evil.example'])(
    'Origin %s is rejected',
    async (origin) => {
      expect((await post({ origin })).status).toBe(403);
    },
  );
});

describe('CSRF › layer 3, signed double submit', () => {
  it('a matching, valid token passes', async () => {
    expect((await post({ 'x-csrf-token': b.cookies.get('__Host-tw_csrf') as string })).status).toBe(201);
  });
  it('no header is rejected', async () => {
    expect((await post({})).status).toBe(403);
  });
  it('a header that does not match the cookie is rejected', async () => {
    const other = new Browser(t.request);
    await signup(other);
    expect((await post({ 'x-csrf-token': other.cookies.get('__Host-tw_csrf') as string })).status).toBe(403);
  });
  it('a token of another session, planted in both places, is rejected (bound to the session)', async () => {
    const other = new Browser(t.request);
    await signup(other);
    const planted = other.cookies.get('__Host-tw_csrf') as string;
    const cookie = b.cookieHeader().replace(/__Host-tw_csrf=[^;]+/, `__Host-tw_csrf=${planted}`);
    expect((await post({ 'x-csrf-token': planted }, cookie)).status).toBe(403);
  });
  it('a forged (re-signed) token is rejected', async () => {
    const real = b.cookies.get('__Host-tw_csrf') as string;
    const forged = `${real.slice(0, -4)}AAAA`;
    const cookie = b.cookieHeader().replace(/__Host-tw_csrf=[^;]+/, `__Host-tw_csrf=${forged}`);
    expect((await post({ 'x-csrf-token': forged }, cookie)).status).toBe(403);
  });
});

describe('CSRF › scope', () => {
  it('rejected requests change nothing', async () => {
    const before = ((await (await b.fetch('/api/notes')).json()) as { notes: unknown[] }).notes.length;
    await post({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    const after = ((await (await b.fetch('/api/notes')).json()) as { notes: unknown[] }).notes.length;
    expect(after).toBe(before);
  });
  it('GET requests are not subject to the rule', async () => {
    const res = await t.request('/api/notes', {
      headers: { cookie: b.cookieHeader(), 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(200);
  });
  it('login CSRF: a cross-site login is rejected even without cookies', async () => {
    const res = await t.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      body: '{"email":"a@b.co","password":"whatever1"}',
    });
    expect(res.status).toBe(403);
  });
  it('login from an old browser needs the anonymous double-submit token from /auth/me', async () => {
    const noHeaders = await t.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":"a@b.co","password":"whatever1"}',
    });
    expect(noHeaders.status).toBe(403);
    const me = await t.request('/auth/me');
    const token = /__Host-tw_csrf=([^;]+)/.exec(me.headers.get('set-cookie') ?? '')?.[1] as string;
    expect(token).toBeTruthy();
    const withToken = await t.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `__Host-tw_csrf=${token}`, 'x-csrf-token': token },
      body: '{"email":"a@b.co","password":"whatever1"}',
    });
    expect(withToken.status).toBe(401);
  });
  it('Authorization without cookies is exempt', async () => {
    const token = b.cookies.get('__Host-tw_at') as string;
    const res = await t.request('/api/notes', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: '{"text":"x"}',
    });
    expect(res.status).toBe(201);
  });
  it('logout from a cross-site page is rejected (the session survives)', async () => {
    const res = await t.request('/auth/logout', {
      method: 'POST',
      headers: { cookie: b.cookieHeader(), 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect((await b.fetch('/api/profile')).status).toBe(200);
  });
});
