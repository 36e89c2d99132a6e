// The browser check through the real handler on a real SQLite file: the `browser` member of the
// session answers, GET /auth/browser, the `browsers.unsupported` policy at every way in (password
// login, signup, the second login step, the password grant), and its configuration.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config.js';
import { ConfigError, ERRORS } from '../../../src/errors.js';
import { browserCheckFeature } from '../../../src/features/browser-check/index.js';
import {
  CHROME_MAC,
  deviceBrowser,
  expectProblem,
  freshEmail,
  json,
  loginAs,
  PASSWORD,
  secretOf,
  signupAs,
  totpCode,
} from '../../support/account.js';
import { createTestInstance, parseSetCookies, type TestInstance } from '../../support/instance.js';

const IE11_WIN7 = 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko';
const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)';
const EDGE18 =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.17763';
const SAFARI12 =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15';

const SUPPORTED = { status: 'supported', reason: null };

describe('browser check › the browser member (default policy: warn)', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signup and login answers carry browser: {status, reason} next to user and session', async () => {
    const b = deviceBrowser(t);
    const signup = await b.fetch('/auth/signup', { method: 'POST', json: { email: freshEmail(), password: PASSWORD } });
    expect(signup.status).toBe(201);
    const body = await json(signup);
    expect(Object.keys(body).sort()).toEqual(['browser', 'session', 'user']);
    expect(body.browser).toEqual(SUPPORTED);
  });

  it('GET /auth/me says what this request shows: supported with Sec-Fetch-Site, degraded without, unsupported for IE', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    const me = async (headers: Record<string, string>) => {
      const response = await b.fetch('/auth/me', { headers });
      expect(response.status).toBe(200);
      const body = await json(response);
      expect(body.user).toEqual(expect.objectContaining({ id: expect.any(String) }));
      return body.browser;
    };
    expect(await me({ 'sec-fetch-site': 'same-origin' })).toEqual(SUPPORTED);
    expect(await me({})).toEqual({ status: 'degraded', reason: 'fetch_metadata_stripped' });
    expect(await me({ 'user-agent': SAFARI12, 'sec-fetch-site': 'same-origin' })).toEqual({
      status: 'degraded',
      reason: 'cookie_prefixes_ignored',
    });
    expect(await me({ 'user-agent': IE11_WIN7 })).toEqual({ status: 'unsupported', reason: 'samesite_ignored' });
  });

  it('warn lets an unsupported browser sign up and log in, and says so', async () => {
    const ie = deviceBrowser(t, { userAgent: IE11_WIN7 });
    const email = freshEmail();
    const signup = await ie.fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } });
    expect(signup.status).toBe(201);
    expect((await json(signup)).browser).toEqual({ status: 'unsupported', reason: 'samesite_ignored' });
    const login = await loginAs(deviceBrowser(t, { userAgent: EDGE18 }), email);
    expect(login.status).toBe(200);
    expect((await json(login)).browser).toEqual({ status: 'unsupported', reason: 'retired_browser' });
  });

  it('GET /auth/browser answers a visitor who is not signed in (no-store), and nothing else', async () => {
    const visitor = (headers: Record<string, string>) =>
      t.request('/auth/browser', { headers: { 'user-agent': CHROME_MAC, ...headers } });
    const ok = await visitor({ 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toContain('no-store');
    expect(await json(ok)).toEqual({ browser: SUPPORTED });
    expect(await json(await visitor({}))).toEqual({
      browser: { status: 'degraded', reason: 'fetch_metadata_stripped' },
    });
    expect(await json(await visitor({ 'user-agent': IE8 }))).toEqual({
      browser: { status: 'unsupported', reason: 'samesite_ignored' },
    });
    // It sets nothing: no cookie, no session.
    expect(ok.headers.getSetCookie()).toEqual([]);
    const post = await t.request('/auth/browser', { method: 'POST', headers: { 'sec-fetch-site': 'same-origin' } });
    await expectProblem(post, 405, 'method_not_allowed');
    expect(post.headers.get('allow')).toContain('GET');
  });

  it('hostile User-Agent and Sec-Fetch-Site values get a verdict, never a 500', async () => {
    for (const headers of [
      { 'user-agent': 'x'.repeat(60_000) },
      { 'user-agent': 'Mozilla/5.0 (compatible; MSIE 9999999999999999999999.0; Trident/' },
      { 'user-agent': '\u00ff\u00fe(((((((((((((((((((((((((((((((Chrome/' },
      { 'user-agent': CHROME_MAC, 'sec-fetch-site': 'x'.repeat(10_000) },
      { 'user-agent': '' },
    ]) {
      const response = await t.request('/auth/browser', { headers });
      expect(response.status).toBe(200);
      const { browser } = await json<{ browser: { status: string } }>(response);
      expect(['supported', 'degraded', 'unsupported']).toContain(browser.status);
    }
  });
});

describe('browser check › browsers.unsupported: block', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ browsers: { unsupported: 'block' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signup from an unsupported browser is 400 browser_unsupported with what to do; no account, no event, no cookie', async () => {
    const email = freshEmail();
    const ie = deviceBrowser(t, { userAgent: IE11_WIN7 });
    const response = await ie.fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } });
    const problem = await expectProblem(response, 400, 'browser_unsupported');
    expect(problem.detail).toBe(ERRORS.browser_unsupported.detail);
    expect(String(problem.detail)).toMatch(/current version of Chrome, Edge, Firefox or Safari/);
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(await t.tw.context.store.findUserByEmail(email)).toBeNull();
    // The address is still free: the same signup from a current browser creates the account.
    const { userId } = await signupAs(deviceBrowser(t), email);
    const { events } = await t.tw.context.store.listEvents(userId, { limit: 10 });
    expect(events.map((e) => e.type).sort()).toEqual(['login.success', 'user.signup']);
  });

  it('login from an unsupported browser is refused before the password is checked: no session, no attempt spent', async () => {
    const { email, userId } = await signupAs(deviceBrowser(t));
    // Right password from IE: refused.
    const ie = deviceBrowser(t, { userAgent: IE8 });
    const refused = await loginAs(ie, email);
    await expectProblem(refused, 400, 'browser_unsupported');
    expect(parseSetCookies(refused).size).toBe(0);
    // Ten wrong passwords from IE: refused the same way, not counted (the backoff starts after 5).
    for (let i = 0; i < 10; i++)
      await expectProblem(await loginAs(ie, email, `wrong ${i}`), 400, 'browser_unsupported');
    const sessions = await t.tw.context.store.listActiveSessions(userId, Date.now());
    expect(sessions).toHaveLength(1); // the signup's
    // A current browser with the right password is not backed off.
    expect((await loginAs(deviceBrowser(t), email)).status).toBe(200);
    expect(await t.tw.context.store.listActiveSessions(userId, Date.now())).toHaveLength(2);
  });

  it('two different reasons give byte-identical problem bodies (no per-request values)', async () => {
    const bodies = await Promise.all(
      [IE8, EDGE18, IE11_WIN7].map(async (userAgent) =>
        (await loginAs(deviceBrowser(t, { userAgent }), freshEmail())).text(),
      ),
    );
    expect(new Set(bodies).size).toBe(1);
  });

  it('degraded browsers are never blocked: Safari 12, and Chrome without Fetch Metadata through the double-submit token', async () => {
    const { email } = await signupAs(deviceBrowser(t));
    const safari = await loginAs(deviceBrowser(t, { userAgent: SAFARI12 }), email);
    expect(safari.status).toBe(200);
    expect((await json(safari)).browser).toEqual({ status: 'degraded', reason: 'cookie_prefixes_ignored' });

    // An old-browser request: no Sec-Fetch-Site, no Origin; the anonymous CSRF cookie from /me and its header.
    const b = deviceBrowser(t);
    await expectProblem(await b.fetch('/auth/me'), 401, 'unauthenticated');
    const csrf = b.cookies.get('__Host-tw_csrf');
    expect(csrf).toEqual(expect.any(String));
    // Sent as the old browser sends it: the cookie, the JSON body, no Fetch Metadata, no Origin.
    const oldBrowserLogin = (headers: Record<string, string>) =>
      t.tw.fetch(
        new Request(new URL('/auth/login', t.tw.config.publicOrigin), {
          method: 'POST',
          headers: {
            'user-agent': CHROME_MAC,
            'content-type': 'application/json',
            cookie: b.cookieHeader(),
            ...headers,
          },
          body: JSON.stringify({ email, password: PASSWORD }),
        }),
        { ip: '203.0.113.7' },
      );
    await expectProblem(await oldBrowserLogin({}), 403, 'csrf_rejected');
    const login = await oldBrowserLogin({ 'x-csrf-token': decodeURIComponent(csrf ?? '') });
    expect(login.status).toBe(200);
    expect((await json(login)).browser).toEqual({ status: 'degraded', reason: 'fetch_metadata_stripped' });
  });

  it('the second login step is refused too (the gate runs in the login pipeline, whatever the way in)', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    expect((await b.fetch('/auth/step-up', { method: 'POST', json: { password: PASSWORD } })).status).toBe(200);
    const enrolled = await json<{ otpauthUri: string }>(await b.fetch('/auth/totp/enroll', { method: 'POST' }));
    const secret = secretOf(enrolled.otpauthUri);
    const confirm = await b.fetch('/auth/totp/confirm', {
      method: 'POST',
      json: { code: totpCode(secret, Date.now() - 30_000) },
    });
    expect(confirm.status).toBe(200);
    // The password step from a current browser; the second step replayed with an IE User-Agent.
    const second = deviceBrowser(t);
    const first = await loginAs(second, email);
    expect(await json(first)).toEqual({ mfaRequired: true, browser: SUPPORTED });
    const refused = await second.fetch('/auth/login/totp', {
      method: 'POST',
      headers: { 'user-agent': IE11_WIN7 },
      json: { code: totpCode(secret, Date.now()) },
    });
    await expectProblem(refused, 400, 'browser_unsupported');
    expect(parseSetCookies(refused).has('__Host-tw_at')).toBe(false);
  });

  it('native clients at /auth/token (tokens in the body, no cookies) are not judged by their User-Agent', async () => {
    const { email } = await signupAs(deviceBrowser(t));
    const response = await t.request('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': IE8 },
      body: new URLSearchParams({ grant_type: 'password', username: email, password: PASSWORD }).toString(),
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual(expect.objectContaining({ access_token: expect.any(String) }));
  });
});

describe('browser check › configuration', () => {
  it('its error codes are in the registry and in the contract (docs/api.md)', () => {
    const contract = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    for (const code of browserCheckFeature.errors) {
      expect(ERRORS[code].status).toBe(400);
      expect(contract).toContain(`400 \`${code}\``);
    }
  });

  it('browsers.unsupported accepts warn and block (default warn), also from TOKENWARD_BROWSERS_UNSUPPORTED', () => {
    expect(resolveConfig({}).browsers).toEqual({ unsupported: 'warn' });
    expect(resolveConfig({ browsers: { unsupported: 'block' } }).browsers).toEqual({ unsupported: 'block' });
    expect(resolveConfig({}, { env: { TOKENWARD_BROWSERS_UNSUPPORTED: 'block' } }).browsers).toEqual({
      unsupported: 'block',
    });
  });

  it('anything else fails at start with one line naming the option and its environment variable', () => {
    for (const [options, env] of [
      [{ browsers: { unsupported: 'deny' } }, {}],
      [{}, { TOKENWARD_BROWSERS_UNSUPPORTED: 'yes' }],
      [{ browsers: { unsupported: 'warn', strict: true } }, {}],
    ] as const) {
      let error: unknown;
      try {
        resolveConfig(options as never, { env });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toContain('browsers');
      if (!('strict' in (options.browsers ?? {}))) {
        expect(message).toContain('browsers.unsupported (env TOKENWARD_BROWSERS_UNSUPPORTED)');
        expect(message).toContain('must be "warn" or "block"');
      }
    }
  });
});
