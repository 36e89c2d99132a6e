// browsers.unsupported: 'block' at the federated login (a real OpenID provider, oidc-provider): a
// first login from an unsupported browser creates no account and links no identity.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
} from '../../oidc/harness.js';
import { startIdp, type TestIdp } from '../../oidc/idp.js';
import type { TestInstance } from '../../support/instance.js';

const IE11 = 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko';
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

let idp: TestIdp;
let t: TestInstance | undefined;
beforeAll(async () => {
  idp = await startIdp({
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS }],
  });
  idp.accounts.set('olga', { email: 'olga@example.com', email_verified: true, name: 'Olga' });
});
afterAll(async () => {
  await idp?.close();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('browser check › block at the federated login', () => {
  it('a first OIDC login from IE 11 is 400 browser_unsupported: no account, no identity, no session cookie', async () => {
    t = await createOidcInstance({
      oidc: { providers: { test: providerFor(idp) } },
      browsers: { unsupported: 'block' },
    });
    const ie = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(ie, idp, { sub: 'olga' }, { 'user-agent': IE11 });
    expect(callback.status).toBe(400);
    expect((await json(callback)).code).toBe('browser_unsupported');
    expect(callback.headers.getSetCookie().filter((c) => /tw_(at|rt)=[^;]/.test(c))).toEqual([]);
    expect(await t.tw.context.store.findUserByIdentity(idp.issuer, 'olga')).toBeNull();
    expect(await t.tw.context.store.findUserByEmail('olga@example.com')).toBeNull();

    // The same person with a current browser: the account is created then.
    const chrome = new Browser(t.request, ORIGIN);
    const ok = await oidcLogin(chrome, idp, { sub: 'olga' }, { 'user-agent': CHROME });
    expect(ok.callback.status).toBe(302);
    expect(await t.tw.context.store.findUserByIdentity(idp.issuer, 'olga')).not.toBeNull();
  });
});
