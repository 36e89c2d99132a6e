import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { oidcRoutes } from '../../src/features/oidc-login/endpoints.js';
import { createTestInstance, parseSetCookies, type TestInstance } from '../support/instance.js';
import {
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  createOidcInstance,
  INSECURE_ORIGIN,
  json,
  ORIGIN,
  oidcLogin,
  providerFor,
  REDIRECT_URIS,
} from './harness.js';
import { startIdp, type TestIdp } from './idp.js';

let idp: TestIdp;
let tw: TestInstance | undefined;

beforeAll(async () => {
  idp = await startIdp({
    clients: [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS },
      { client_id: 'tokenward-public', redirect_uris: REDIRECT_URIS },
    ],
  });
  idp.accounts.set('alice', { email: 'Alice@Example.com', email_verified: true, name: 'Alice' });
  idp.accounts.set('bob', { email: 'bob@example.com', email_verified: true, name: 'Bob' });
  idp.accounts.set('carol-unverified', { email: 'carol@example.com', email_verified: false });
  idp.accounts.set('no-email', { name: 'Nomail' });
});
afterAll(async () => {
  await idp.close();
});
afterEach(async () => {
  await tw?.close();
  tw = undefined;
});

async function instance(
  options: Parameters<typeof createOidcInstance>[0] = {},
): Promise<{ tw: TestInstance; browser: Browser }> {
  tw = await createOidcInstance({ oidc: { providers: { test: providerFor(idp) } }, ...options });
  return { tw, browser: new Browser(tw.request, ORIGIN) };
}

describe('oidc › login start', () => {
  it('redirects to the provider with PKCE S256, state, nonce, the callback redirect_uri and the openid scope', async () => {
    const { browser } = await instance();
    const response = await browser.fetch('/auth/oidc/test/login?returnTo=%2Fdashboard');
    expect(response.status).toBe(302);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const url = new URL(response.headers.get('location') ?? '');
    expect(url.origin).toBe(idp.issuer);
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(`${ORIGIN}/auth/oidc/test/callback`);
    expect(q.get('scope')?.split(' ')).toEqual(['openid', 'email', 'profile']);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Nothing of the login state is readable in the URL beyond what the provider must see.
    expect(url.href).not.toContain('dashboard');
  });

  it('sets the sealed __Host-tw_oidc cookie: HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age ≤ 600', async () => {
    const { browser } = await instance();
    const response = await browser.fetch('/auth/oidc/test/login');
    const cookie = parseSetCookies(response).get('__Host-tw_oidc');
    expect(cookie).toBeDefined();
    const a = cookie?.attributes;
    expect(a?.get('httponly')).toBe(true);
    expect(a?.get('secure')).toBe(true);
    expect(a?.get('samesite')).toBe('Lax');
    expect(a?.get('path')).toBe('/');
    expect(a?.has('domain')).toBe(false);
    const maxAge = Number(a?.get('max-age'));
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(600);
    // Encrypted: neither the state, the nonce nor the verifier appear in it.
    const q = new URL(response.headers.get('location') ?? '').searchParams;
    expect(cookie?.value).not.toContain(q.get('state'));
    expect(cookie?.value).not.toContain(q.get('nonce'));
  });

  it('an unknown provider is 404 not_found, for login and callback', async () => {
    const { browser } = await instance();
    for (const path of ['/auth/oidc/nope/login', '/auth/oidc/nope/callback?code=x&state=y']) {
      const response = await browser.fetch(path);
      expect(response.status).toBe(404);
      expect((await json(response)).code).toBe('not_found');
    }
  });

  it('without any configured provider every provider is unknown (404)', async () => {
    tw = await createOidcInstance({});
    const response = await tw.request('/auth/oidc/test/login');
    expect(response.status).toBe(404);
  });

  it('a known route with the wrong method is 405 with Allow', async () => {
    const { browser } = await instance();
    const response = await browser.fetch('/auth/oidc/test/login', { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('GET');
  });
});

describe('oidc › round trip against a real OpenID Provider', () => {
  it('login → provider → callback: 302 to returnTo with session cookies; /auth/me shows the user', async () => {
    const { browser } = await instance();
    const { callback } = await oidcLogin(browser, idp, { sub: 'alice', returnTo: '/dashboard?tab=1' });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/dashboard?tab=1`);
    const cookies = parseSetCookies(callback);
    expect(cookies.get('__Host-tw_at')?.value).toMatch(/^ey/);
    expect(cookies.get('__Secure-tw_rt')?.value).toMatch(/^twr_/);
    expect(cookies.get('__Host-tw_csrf')).toBeDefined();
    // The login state is single use: cleared with the attributes it was set with.
    expect(cookies.get('__Host-tw_oidc')?.raw).toMatch(
      /^__Host-tw_oidc=; Max-Age=0; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
    );
    const me = await browser.fetch('/auth/me');
    expect(me.status).toBe(200);
    const body = await json(me);
    expect(body.user.email).toBe('alice@example.com');
    expect(body.user.name).toBe('Alice');
    const claims = decodeJwt(browser.cookies.get('__Host-tw_at') ?? '');
    expect(claims.amr).toEqual(['fed']);
  });

  it('a second login links to the same user (by issuer + subject)', async () => {
    const { tw, browser } = await instance();
    await oidcLogin(browser, idp, { sub: 'bob' });
    const first = await json(await browser.fetch('/auth/me'));
    const second = new Browser(tw.request, ORIGIN);
    const { callback } = await oidcLogin(second, idp, { sub: 'bob' });
    expect(callback.status).toBe(302);
    const again = await json(await second.fetch('/auth/me'));
    expect(again.user.id).toBe(first.user.id);
    expect(again.session.id).not.toBe(first.session.id);
    const user = await tw.tw.context.store.findUserByIdentity(idp.issuer, 'bob');
    expect(user?.id).toBe(first.user.id);
  });
});

describe('oidc › variants', () => {
  it('a public client (no secret: PKCE and token endpoint auth none) signs in', async () => {
    tw = await createOidcInstance({
      oidc: { providers: { public: { issuer: idp.issuer, clientId: 'tokenward-public' } } },
    });
    const browser = new Browser(tw.request, ORIGIN);
    const { callback } = await oidcLogin(browser, idp, { sub: 'alice', provider: 'public' });
    expect(callback.status).toBe(302);
    expect((await json(await browser.fetch('/auth/me'))).user.email).toBe('alice@example.com');
  });

  it('works through a real listening server (node-server adapter, real sockets)', async () => {
    tw = await createTestInstance({ publicOrigin: ORIGIN, oidc: { providers: { test: providerFor(idp) } } });
    if (!tw.tw.app.routes.some((r) => r.path === '/auth/oidc/:provider/callback')) oidcRoutes(tw.tw.app, tw.tw.context);
    const base = tw.url;
    const browser = new Browser((path, init) => fetch(`${base}${path}`, { ...init, redirect: 'manual' }), ORIGIN);
    const { callback } = await oidcLogin(browser, idp, { sub: 'bob', returnTo: '/notes' });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/notes`);
    const me = await browser.fetch('/auth/me');
    expect(me.status).toBe(200);
    expect((await json(me)).user.email).toBe('bob@example.com');
  });

  it('insecureHttp mode (plain http, private network): tw_oidc without prefix or Secure, and the flow works', async () => {
    tw = await createOidcInstance({
      publicOrigin: INSECURE_ORIGIN,
      insecureHttp: true,
      oidc: { providers: { test: providerFor(idp) } },
    });
    const browser = new Browser(tw.request, INSECURE_ORIGIN);
    const start = await browser.fetch('/auth/oidc/test/login?returnTo=/home');
    const cookie = parseSetCookies(start).get('tw_oidc');
    expect(cookie?.attributes.get('httponly')).toBe(true);
    expect(cookie?.attributes.has('secure')).toBe(false);
    expect(new URL(start.headers.get('location') ?? '').searchParams.get('redirect_uri')).toBe(
      `${INSECURE_ORIGIN}/auth/oidc/test/callback`,
    );
    const callbackUrl = await idp.authorize(start.headers.get('location') ?? '', { sub: 'alice' });
    const callback = await browser.fetch(`${callbackUrl.pathname}${callbackUrl.search}`);
    expect(callback.headers.get('location')).toBe(`${INSECURE_ORIGIN}/home`);
    expect((await json(await browser.fetch('/auth/me'))).user.email).toBe('alice@example.com');
  });
});
