import { createServer, type Server, type Socket } from 'node:net';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSetCookies, type TestInstance } from '../support/instance.js';
import { freePort } from '../support/process.js';
import {
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  createOidcInstance,
  json,
  ORIGIN,
  oidcLogin,
  pathOf,
  providerFor,
  REDIRECT_URIS,
} from './harness.js';
import { startIdp, type TestIdp } from './idp.js';

const OIDC_COOKIE = '__Host-tw_oidc';
let idp: TestIdp;
let tw: TestInstance | undefined;
const extra: Array<{ close: () => Promise<void> }> = [];

beforeAll(async () => {
  idp = await startIdp({
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS }],
  });
  idp.accounts.set('alice', { email: 'alice@example.com', email_verified: true, name: 'Alice' });
  idp.accounts.set('mallory', { email: 'mallory@example.com', email_verified: true, name: 'Mallory' });
});
afterAll(async () => {
  await idp.close();
});
afterEach(async () => {
  idp.tamperIdToken = null;
  await tw?.close();
  tw = undefined;
  for (const e of extra.splice(0)) await e.close();
});

async function instance(
  providers: Record<string, Record<string, unknown>> = { test: providerFor(idp) },
  timeout?: number,
): Promise<TestInstance> {
  tw = await createOidcInstance({ oidc: { providers, ...(timeout === undefined ? {} : { timeout }) } });
  return tw;
}

/** Starts a login in `browser` and returns the provider's authorization URL. */
async function start(browser: Browser, provider = 'test', returnTo = '/dashboard'): Promise<URL> {
  const response = await browser.fetch(`/auth/oidc/${provider}/login?returnTo=${encodeURIComponent(returnTo)}`);
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') ?? '');
}

function sessionCookieNames(response: Response): string[] {
  return [...parseSetCookies(response)]
    .filter(([name, c]) => /tw_(at|rt|csrf)/.test(name) && c.value !== '')
    .map(([name]) => name);
}

async function expectProblem(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect((await json(response)).code).toBe(code);
  expect(sessionCookieNames(response)).toEqual([]);
}

/** Re-signs the provider's ID token with changed claims (and, optionally, another key or header). */
function forge(
  change: (claims: JWTPayload) => JWTPayload,
  options: { key?: 'foreign' | 'real'; alg?: 'none' } = {},
): (idToken: string) => Promise<string> {
  return async (idToken) => {
    const claims = change(decodeJwt(idToken));
    const header = decodeProtectedHeader(idToken);
    if (options.alg === 'none') {
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
    }
    const key =
      options.key === 'foreign'
        ? (await generateKeyPair('RS256', { extractable: true })).privateKey
        : await importJWK(idp.signingJwk, 'RS256');
    // Same kid as the real key: only the signature can tell them apart.
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? 'idp-key-1', typ: 'JWT' })
      .sign(key);
  };
}

describe('oidc › callback state (login CSRF, RFC 6749 §10.12)', () => {
  it('rejects a callback without the tw_oidc cookie (400 oidc_state_mismatch) and redeems nothing', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    const before = idp.tokenRequests;
    const stranger = new Browser(t.request, ORIGIN);
    await expectProblem(await stranger.fetch(pathOf(callbackUrl)), 400, 'oidc_state_mismatch');
    expect(idp.tokenRequests).toBe(before);
  });

  it('rejects a callback whose state differs from the cookie', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    callbackUrl.searchParams.set('state', `${callbackUrl.searchParams.get('state')}x`);
    await expectProblem(await browser.fetch(pathOf(callbackUrl)), 400, 'oidc_state_mismatch');
  });

  it('rejects a callback without state', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    callbackUrl.searchParams.delete('state');
    await expectProblem(await browser.fetch(pathOf(callbackUrl)), 400, 'oidc_state_mismatch');
  });

  it('rejects a tampered tw_oidc cookie', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    const value = browser.cookies.get(OIDC_COOKIE) ?? '';
    const i = value.length - 10;
    browser.cookies.set(OIDC_COOKIE, `${value.slice(0, i)}${value[i] === 'A' ? 'B' : 'A'}${value.slice(i + 1)}`);
    await expectProblem(await browser.fetch(pathOf(callbackUrl)), 400, 'oidc_state_mismatch');
  });

  it('rejects a login state made for another provider', async () => {
    const t = await instance({ test: providerFor(idp), other: providerFor(idp) });
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser, 'other')).href, { sub: 'alice' });
    const crossed = `/auth/oidc/test/callback${callbackUrl.search}`;
    await expectProblem(await browser.fetch(crossed), 400, 'oidc_state_mismatch');
  });

  it("login CSRF: the attacker's code and state delivered to the victim's browser are refused", async () => {
    const t = await instance();
    const attacker = new Browser(t.request, ORIGIN);
    const attackerCallback = await idp.authorize((await start(attacker)).href, { sub: 'mallory' });
    const victim = new Browser(t.request, ORIGIN);
    await start(victim); // the victim has a login of their own in flight
    await expectProblem(await victim.fetch(pathOf(attackerCallback)), 400, 'oidc_state_mismatch');
    expect((await victim.fetch('/auth/me')).status).toBe(401);
  });

  it('the cookie is single use: replaying the callback with a saved copy is refused', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    const saved = browser.cookies.get(OIDC_COOKIE) ?? '';
    const first = await browser.fetch(pathOf(callbackUrl));
    expect(first.status).toBe(302);
    expect(browser.cookies.has(OIDC_COOKIE)).toBe(false);
    const replay = new Browser(t.request, ORIGIN);
    replay.cookies.set(OIDC_COOKIE, saved);
    await expectProblem(await replay.fetch(pathOf(callbackUrl)), 400, 'oidc_state_mismatch');
  });

  it('a failed callback clears the cookie too', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    await start(browser);
    const response = await browser.fetch('/auth/oidc/test/callback?code=x&state=wrong');
    expect(response.status).toBe(400);
    expect(parseSetCookies(response).get(OIDC_COOKIE)?.attributes.get('max-age')).toBe('0');
  });

  it('a code issued to another login of the same browser is refused (PKCE verifier and nonce differ): 502', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const first = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    const second = await start(browser); // replaces the login state
    const injected = new URL(first);
    injected.searchParams.set('state', second.searchParams.get('state') ?? '');
    await expectProblem(await browser.fetch(pathOf(injected)), 502, 'oidc_provider_error');
  });
});

describe('oidc › ID token validation (by openid-client)', () => {
  async function loginWith(tamper: ((idToken: string) => Promise<string>) | null): Promise<Response> {
    const t = tw ?? (await instance());
    idp.tamperIdToken = tamper;
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await idp.authorize((await start(browser)).href, { sub: 'alice' });
    return browser.fetch(pathOf(callbackUrl));
  }

  it('control: an ID token re-signed with the real key and unchanged claims is accepted', async () => {
    const response = await loginWith(forge((c) => c));
    expect(response.status).toBe(302);
    expect(sessionCookieNames(response).length).toBeGreaterThan(0);
  });

  it('rejects an ID token signed by another key (same kid)', async () => {
    await expectProblem(await loginWith(forge((c) => c, { key: 'foreign' })), 502, 'oidc_provider_error');
  });

  it('rejects an unsigned ID token (alg none)', async () => {
    await expectProblem(await loginWith(forge((c) => c, { alg: 'none' })), 502, 'oidc_provider_error');
  });

  it('rejects an ID token for another audience', async () => {
    await expectProblem(
      await loginWith(forge((c) => ({ ...c, aud: 'another-client', azp: 'another-client' }))),
      502,
      'oidc_provider_error',
    );
  });

  it('rejects an ID token from another issuer', async () => {
    await expectProblem(
      await loginWith(forge((c) => ({ ...c, iss: 'https://evil.example' }))),
      502,
      'oidc_provider_error',
    );
  });

  it('rejects an expired ID token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expectProblem(
      await loginWith(forge((c) => ({ ...c, iat: past - 600, exp: past }))),
      502,
      'oidc_provider_error',
    );
  });

  it('rejects an ID token with another nonce than the one sent', async () => {
    await expectProblem(
      await loginWith(forge((c) => ({ ...c, nonce: 'not-the-nonce-of-this-login' }))),
      502,
      'oidc_provider_error',
    );
  });

  it('rejects an ID token without nonce when one was sent', async () => {
    await expectProblem(
      await loginWith(
        forge((c) => {
          const { nonce: _n, ...rest } = c;
          return rest;
        }),
      ),
      502,
      'oidc_provider_error',
    );
  });

  it('rejects a login whose authorization request nonce was changed on the way to the provider', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const url = await start(browser);
    url.searchParams.set('nonce', 'attacker-chosen-nonce-0123456789');
    const callbackUrl = await idp.authorize(url.href, { sub: 'alice' });
    await expectProblem(await browser.fetch(pathOf(callbackUrl)), 502, 'oidc_provider_error');
  });
});

describe('oidc › the user cancels at the provider (API.md: returnTo?error=access_denied)', () => {
  it('the user cancels at the provider: redirect to returnTo?error=access_denied, no session, the state is spent', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    // oidc-provider's own "cancel" (devInteractions abort) answers error=access_denied.
    const callbackUrl = await idp.authorize((await start(browser, 'test', '/settings?tab=login')).href, {
      sub: 'alice',
      abort: true,
    });
    expect(callbackUrl.searchParams.get('error')).toBe('access_denied');
    const tokenRequests = idp.tokenRequests;
    const response = await browser.fetch(pathOf(callbackUrl));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${ORIGIN}/settings?tab=login&error=access_denied`);
    expect(sessionCookieNames(response)).toEqual([]);
    expect(parseSetCookies(response).get(OIDC_COOKIE)?.attributes.get('max-age')).toBe('0');
    expect(idp.tokenRequests).toBe(tokenRequests);
    expect((await browser.fetch('/auth/me')).status).toBe(401);
    // The same callback again: the login state is gone.
    await expectProblem(await browser.fetch(pathOf(callbackUrl)), 400, 'oidc_state_mismatch');
  });
});

describe('oidc › provider failures are 502 oidc_provider_error, never 500', () => {
  it('another error response from the provider (error=temporarily_unavailable, with the right state) stays 502', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const state = (await start(browser)).searchParams.get('state') ?? '';
    const crafted = `/auth/oidc/test/callback?${new URLSearchParams({ error: 'temporarily_unavailable', state, iss: idp.issuer })}`;
    const response = await browser.fetch(crafted);
    await expectProblem(response, 502, 'oidc_provider_error');
    expect(parseSetCookies(response).get(OIDC_COOKIE)?.attributes.get('max-age')).toBe('0');
  });

  it('an access_denied response with a forged state is a state mismatch, not a redirect', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    await start(browser);
    await expectProblem(
      await browser.fetch(
        `/auth/oidc/test/callback?error=access_denied&state=forged&iss=${encodeURIComponent(idp.issuer)}`,
      ),
      400,
      'oidc_state_mismatch',
    );
  });

  it('an error response without the matching state is a state mismatch first', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    await start(browser);
    await expectProblem(
      await browser.fetch('/auth/oidc/test/callback?error=access_denied&state=forged'),
      400,
      'oidc_state_mismatch',
    );
  });

  it('a provider that is down at login start (connection refused)', async () => {
    const port = await freePort();
    const t = await instance({ down: { issuer: `http://127.0.0.1:${port}`, clientId: CLIENT_ID } });
    const response = await t.request('/auth/oidc/down/login');
    await expectProblem(response, 502, 'oidc_provider_error');
    expect(parseSetCookies(response).has(OIDC_COOKIE)).toBe(false);
  });

  it('a provider that accepts connections but never answers: 502 within the configured timeout', async () => {
    const sockets = new Set<Socket>();
    const hang: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    extra.push({
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => hang.close(() => resolve()));
      },
    });
    const port = (hang.address() as { port: number }).port;
    const t = await instance({ slow: { issuer: `http://127.0.0.1:${port}`, clientId: CLIENT_ID } }, 0.5);
    const started = Date.now();
    await expectProblem(await t.request('/auth/oidc/slow/login'), 502, 'oidc_provider_error');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a provider that goes down between login and callback', async () => {
    const flaky = await startIdp({
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS }],
    });
    flaky.accounts.set('alice', { email: 'alice@example.com', email_verified: true });
    const t = await instance({ test: providerFor(flaky) });
    const browser = new Browser(t.request, ORIGIN);
    const callbackUrl = await flaky.authorize((await start(browser)).href, { sub: 'alice' });
    await flaky.close();
    await expectProblem(await browser.fetch(pathOf(callbackUrl)), 502, 'oidc_provider_error');
  });

  it('discovery is retried after a failure (a provider that comes back works)', async () => {
    const port = await freePort();
    const t = await instance({
      late: { issuer: `http://127.0.0.1:${port}`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
    expect((await t.request('/auth/oidc/late/login')).status).toBe(502);
    const late = await startIdp(
      { clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS }] },
      port,
    );
    extra.push(late);
    expect((await t.request('/auth/oidc/late/login')).status).toBe(302);
  });
});

describe('oidc › limits', () => {
  it('login starts count against the per-IP login limit (429 with Retry-After)', async () => {
    tw = await createOidcInstance({ limitLoginPerIp: '2/1m', oidc: { providers: { test: providerFor(idp) } } });
    expect((await tw.request('/auth/oidc/test/login')).status).toBe(302);
    expect((await tw.request('/auth/oidc/test/login')).status).toBe(302);
    const third = await tw.request('/auth/oidc/test/login');
    await expectProblem(third, 429, 'too_many_attempts');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('oidc › returnTo (no open redirect)', () => {
  const rejected = [
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/path\\..\\evil',
    'https://evil.example/',
    'http://localhost:3000/dashboard',
    'javascript:alert(1)',
    'evil.example',
    '',
    ' /dashboard',
    '/\t/evil.example',
    '/\n/evil.example',
    '/ok\r\nSet-Cookie: x=1',
    '/\u0000',
    '/caf\u00e9',
    `/${'a'.repeat(1024)}`,
  ];
  for (const value of rejected) {
    it(`rejects returnTo=${JSON.stringify(value).slice(0, 40)} with 400 invalid_return_to and sets no cookie`, async () => {
      const t = tw ?? (await instance());
      const response = await t.request(`/auth/oidc/test/login?returnTo=${encodeURIComponent(value)}`);
      await expectProblem(response, 400, 'invalid_return_to');
      expect(parseSetCookies(response).has(OIDC_COOKIE)).toBe(false);
    });
  }

  it('a path that normalises to //host (/..//evil.example) still returns to this origin', async () => {
    const t = await instance();
    const { callback } = await oidcLogin(new Browser(t.request, ORIGIN), idp, {
      sub: 'alice',
      returnTo: '/..//evil.example',
    });
    expect(callback.status).toBe(302);
    const location = new URL(callback.headers.get('location') ?? '');
    expect(location.origin).toBe(ORIGIN);
    expect(callback.headers.get('location')?.startsWith(`${ORIGIN}/`)).toBe(true);
  });

  it('without returnTo the login returns to /', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const response = await browser.fetch('/auth/oidc/test/login');
    const callbackUrl = await idp.authorize(response.headers.get('location') ?? '', { sub: 'alice' });
    const callback = await browser.fetch(pathOf(callbackUrl));
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/`);
  });
});
