import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TokenwardOptions } from '../../src/config.js';
import { parseSetCookies, signup, type TestInstance } from '../support/instance.js';
import {
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  createOidcInstance,
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
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS }],
  });
  idp.accounts.set('dana', { email: 'dana@example.com', email_verified: true, name: 'Dana' });
  idp.accounts.set('erin', { email: 'erin@example.com', email_verified: true, name: 'Erin' });
  idp.accounts.set('frank-unverified', { email: 'frank@example.com', email_verified: false });
  idp.accounts.set('no-email', { name: 'Nomail' });
  idp.accounts.set('gina', { email: 'gina@example.com', email_verified: true });
  idp.accounts.set('hank', { email: 'hank@example.com', email_verified: true });
  idp.accounts.set('ivy', { email: 'ivy@example.com', email_verified: true });
});
afterAll(async () => {
  await idp.close();
});
afterEach(async () => {
  await tw?.close();
  tw = undefined;
});

async function instance(provider: Record<string, unknown> = {}, options: TokenwardOptions = {}): Promise<TestInstance> {
  tw = await createOidcInstance({ oidc: { providers: { test: providerFor(idp, provider) } }, ...options });
  return tw;
}

function sessionCookies(response: Response): string[] {
  return [...parseSetCookies(response)]
    .filter(([name, c]) => /tw_(at|rt|csrf)$/.test(name) && c.value !== '')
    .map(([name]) => name);
}

async function eventTypes(browser: Browser): Promise<string[]> {
  return (await json(await browser.fetch('/auth/events'))).events.map((e) => e.type);
}

describe('oidc › account linking', () => {
  it('a first login with a verified, unused email creates the user and links the identity', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(browser, idp, { sub: 'dana' });
    expect(callback.status).toBe(302);
    const me = await json(await browser.fetch('/auth/me'));
    // The provider asserted email_verified: true, so the new account's email is verified.
    expect(me.user).toMatchObject({ email: 'dana@example.com', emailVerified: true, name: 'Dana' });
    expect((await t.tw.context.store.findUserByIdentity(idp.issuer, 'dana'))?.id).toBe(me.user.id);
    const types = await eventTypes(browser);
    expect(types).toContain('user.signup');
    expect(types).toContain('login.success');
    // The account's first device is not "new" (as at signup).
    expect(types).not.toContain('login.new_device');
  });

  it('the created account has no usable password', async () => {
    const t = await instance();
    await oidcLogin(new Browser(t.request, ORIGIN), idp, { sub: 'dana' });
    for (const password of ['correct horse battery staple', 'dana@example.com']) {
      const login = await new Browser(t.request, ORIGIN).fetch('/auth/login', {
        method: 'POST',
        json: { email: 'dana@example.com', password },
      });
      expect(login.status).toBe(401);
      expect((await json(login)).code).toBe('invalid_credentials');
    }
    expect(
      (
        await t.tw.context.store.getCredentials(
          (await t.tw.context.store.findUserByEmail('dana@example.com'))?.id ?? '',
        )
      )?.passwordHash,
    ).toMatch(/^\$argon2id\$/);
  });

  it('a verified email of an existing local account is NOT linked by default: redirect with error=oidc_account_exists, no session', async () => {
    const t = await instance();
    const owner = new Browser(t.request, ORIGIN);
    await signup(owner, 'erin@example.com');
    const browser = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(browser, idp, { sub: 'erin', returnTo: '/login' });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/login?error=oidc_account_exists`);
    expect(sessionCookies(callback)).toEqual([]);
    expect(parseSetCookies(callback).get('__Host-tw_oidc')?.attributes.get('max-age')).toBe('0');
    expect(await t.tw.context.store.findUserByIdentity(idp.issuer, 'erin')).toBeNull();
    expect((await browser.fetch('/auth/me')).status).toBe(401);
  });

  it('with linkVerifiedEmail on, a password account (its email never proven) is still not linked: error=oidc_account_exists', async () => {
    // Linking needs both sides to have proven the address (pre-account hijacking: see
    // oidc-pre-account.test.ts, which also covers the verified account that does link).
    const t = await instance({ linkVerifiedEmail: true });
    const owner = new Browser(t.request, ORIGIN);
    await signup(owner, 'erin@example.com');
    expect((await json(await owner.fetch('/auth/me'))).user.emailVerified).toBe(false);
    const browser = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(browser, idp, { sub: 'erin' });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/dashboard?error=oidc_account_exists`);
    expect(sessionCookies(callback)).toEqual([]);
    expect(await t.tw.context.store.findUserByIdentity(idp.issuer, 'erin')).toBeNull();
  });

  it('linkVerifiedEmail never links an unverified email', async () => {
    const t = await instance({ linkVerifiedEmail: true });
    await signup(new Browser(t.request, ORIGIN), 'frank@example.com');
    const { callback } = await oidcLogin(new Browser(t.request, ORIGIN), idp, {
      sub: 'frank-unverified',
      returnTo: '/',
    });
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/?error=oidc_email_unverified`);
    expect(sessionCookies(callback)).toEqual([]);
    expect(await t.tw.context.store.findUserByIdentity(idp.issuer, 'frank-unverified')).toBeNull();
  });

  it('an unverified email creates no account', async () => {
    const t = await instance();
    const { callback } = await oidcLogin(new Browser(t.request, ORIGIN), idp, {
      sub: 'frank-unverified',
      returnTo: '/',
    });
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/?error=oidc_email_unverified`);
    expect(await t.tw.context.store.findUserByEmail('frank@example.com')).toBeNull();
  });

  it('no email at all creates no account', async () => {
    const t = await instance();
    const { callback } = await oidcLogin(new Browser(t.request, ORIGIN), idp, { sub: 'no-email', returnTo: '/' });
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/?error=oidc_email_unverified`);
    expect(sessionCookies(callback)).toEqual([]);
  });

  it('a linked identity keeps its user even when the provider later reports another email', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    await oidcLogin(browser, idp, { sub: 'gina' });
    const first = await json(await browser.fetch('/auth/me'));
    idp.accounts.set('gina', { email: 'gina-new@example.com', email_verified: true });
    try {
      const again = new Browser(t.request, ORIGIN);
      await oidcLogin(again, idp, { sub: 'gina' });
      expect((await json(await again.fetch('/auth/me'))).user.id).toBe(first.user.id);
    } finally {
      idp.accounts.set('gina', { email: 'gina@example.com', email_verified: true });
    }
  });
});

describe('oidc › the session is a normal Tokenward session', () => {
  it('an account with TOTP on still needs its second factor: redirect with mfa=required and the pending-login cookie, no session', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    await oidcLogin(browser, idp, { sub: 'hank' });
    const { user } = await json(await browser.fetch('/auth/me'));
    await t.tw.context.store.setTotp(user.id, { totpSecretSealed: 'sealed-secret', totpConfirmedAt: Date.now() });
    const second = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(second, idp, { sub: 'hank', returnTo: '/account' });
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/account?mfa=required`);
    expect(sessionCookies(callback)).toEqual([]);
    const pending = parseSetCookies(callback).get('__Secure-tw_mfa');
    expect(pending?.value).toBeTruthy();
    expect(pending?.attributes.get('httponly')).toBe(true);
    expect((await second.fetch('/auth/me')).status).toBe(401);
  });

  it('logins from another device are flagged as new and recorded', async () => {
    const t = await instance();
    const laptop = new Browser(t.request, ORIGIN);
    await oidcLogin(laptop, idp, { sub: 'ivy' });
    const phone = new Browser(t.request, ORIGIN);
    await oidcLogin(
      phone,
      idp,
      { sub: 'ivy' },
      { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1' },
    );
    const { sessions } = await json(await phone.fetch('/auth/sessions'));
    expect(sessions).toHaveLength(2);
    expect(sessions.find((s) => s.current)?.newDevice).toBe(true);
    expect(await eventTypes(phone)).toContain('login.new_device');
  });

  it('the concurrent-session limit applies: the least recently active session is revoked', async () => {
    const t = await instance({}, { limitConcurrentSessions: 2 });
    const browsers = [new Browser(t.request, ORIGIN), new Browser(t.request, ORIGIN), new Browser(t.request, ORIGIN)];
    for (const b of browsers) await oidcLogin(b, idp, { sub: 'dana' });
    const [first, , last] = browsers as [Browser, Browser, Browser];
    expect((await first.fetch('/auth/me')).status).toBe(401);
    expect((await last.fetch('/auth/me')).status).toBe(200);
    expect(await eventTypes(last)).toContain('session.evicted');
  });

  it('logout ends the federated session like any other', async () => {
    const t = await instance();
    const browser = new Browser(t.request, ORIGIN);
    await oidcLogin(browser, idp, { sub: 'dana' });
    const out = await browser.fetch('/auth/logout', { method: 'POST' });
    expect(out.status).toBe(204);
    expect((await browser.fetch('/auth/me')).status).toBe(401);
  });
});
