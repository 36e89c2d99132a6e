// Passkeys in a real Chromium through the demo UI, with the DevTools virtual authenticator
// (CDP WebAuthn.*): a platform authenticator (internal, discoverable credentials, user
// verification) and a roaming one (USB security key), one without user verification, and one
// whose verification fails. Register, sign in from the autofill and with the button (with and
// without an email), step up for one transfer, delete; and the requireMfa enrolment path.
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppServer,
  hasChromium,
  launchBrowser,
  makeCertificate,
  newContext,
  newEmail,
  PASSWORD,
  requireChromium,
  signupViaApi,
  startApp,
  type Tls,
  uiLogin,
} from '../../support/browser.js';

let tls: Tls;
let app: AppServer;
let strictApp: AppServer;
let browser: Browser;

beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  [app, strictApp, browser] = await Promise.all([
    startApp(tls),
    startApp(tls, { requireMfa: true }),
    launchBrowser(tls),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), strictApp?.close()]);
});

interface VirtualAuthenticator {
  cdp: CDPSession;
  id: string;
  credentials(): Promise<Array<{ isResidentCredential: boolean; signCount: number }>>;
  presence(on: boolean): Promise<void>;
}

/** Attaches a CDP virtual authenticator to the page's browser context. */
async function attach(
  page: Page,
  options: {
    transport: 'internal' | 'usb';
    hasResidentKey: boolean;
    hasUserVerification: boolean;
    isUserVerified: boolean;
  },
): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId: id } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', automaticPresenceSimulation: true, ...options },
  });
  return {
    cdp,
    id,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId: id })).credentials,
    presence: async (on) => {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: id, enabled: on });
    },
  };
}

const platform = {
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
} as const;
const securityKey = {
  transport: 'usb',
  hasResidentKey: false,
  hasUserVerification: true,
  isUserVerified: true,
} as const;

/** Answers the step-up dialog with the password. */
async function stepUpWithPassword(page: Page): Promise<void> {
  const form = page.locator('#step-up-form');
  await form.locator('input[name=password]').fill(PASSWORD);
  await form.locator('[type=submit]').click();
}

/** Adds a passkey from the security page (the step-up dialog asks for the password first). */
async function addPasskeyInUi(page: Page, target: AppServer, name: string): Promise<void> {
  await page.goto(`${target.origin}/security`);
  await page.locator('#passkey-form input[name=passkey-name]').fill(name);
  await page.locator('#passkey-add').click();
  await stepUpWithPassword(page);
  await page.locator('[data-testid=passkey-name]').filter({ hasText: name }).waitFor();
}

async function logOut(page: Page): Promise<void> {
  await page.locator('button#logout').click();
  await page.locator('[data-testid=logged-out]').waitFor();
}

/**
 * Logs out and leaves the app. The virtual authenticator answers an autofill request at once (a
 * real user would first pick the passkey), so the login form the app shows after the logout
 * would sign straight back in: presence is withheld until the tab has left the app.
 */
async function logOutAndLeave(page: Page, authenticator: VirtualAuthenticator): Promise<void> {
  await authenticator.presence(false);
  await logOut(page);
  await page.goto('about:blank');
  await authenticator.presence(true);
}

const signedInAs = (page: Page, email: string) =>
  page.locator('[data-testid=user-email]').filter({ hasText: email }).first().waitFor({ state: 'visible' });

/** The passkey sign-ins the server answered since `from`, with their options requests. */
const loginsSince = (target: AppServer, from: number) =>
  target.requests.filter((r) => r.at >= from && r.path === '/auth/passkeys/login').map((r) => r.status);

describe('passkeys in Chromium (virtual authenticator)', { timeout: 90_000 }, () => {
  // Each test is another browser (own cookies and its own virtual authenticator).
  let context: BrowserContext;
  beforeEach(async () => {
    if (hasChromium()) context = await newContext(browser);
  });
  afterEach(async () => context?.close());

  it('platform authenticator: add from the security page, then sign in from the username autofill (conditional UI)', async () => {
    const page = await context.newPage();
    const authenticator = await attach(page, platform);
    const email = newEmail('pk-platform');
    await signupViaApi(tls, app, email);
    await uiLogin(page, app, email);
    await addPasskeyInUi(page, app, 'This laptop');
    const [credential] = await authenticator.credentials();
    expect(credential?.isResidentCredential).toBe(true);
    await logOutAndLeave(page, authenticator);

    const from = Date.now();
    await page.goto(`${app.origin}/login`);
    // Nobody clicks anything: the passkey picked from the email field's autofill signs in.
    await signedInAs(page, email);
    expect(await page.locator('form#login-form input[name=email]').count()).toBe(0);
    expect(loginsSince(app, from)).toEqual([200]);
    expect((await authenticator.credentials())[0]?.signCount).toBeGreaterThan(credential?.signCount ?? 0);
  });

  it('where the browser offers no autofill, the button signs in without an email (the browser’s chooser)', async () => {
    const page = await context.newPage();
    const authenticator = await attach(page, platform);
    const email = newEmail('pk-button');
    await signupViaApi(tls, app, email);
    await uiLogin(page, app, email);
    await addPasskeyInUi(page, app, 'Button key');
    await logOutAndLeave(page, authenticator);
    // A browser without conditional mediation (the demo then starts no autofill request).
    await page.addInitScript(() => {
      (
        globalThis as unknown as { PublicKeyCredential: { isConditionalMediationAvailable: () => Promise<boolean> } }
      ).PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    const from = Date.now();
    await page.goto(`${app.origin}/login`);
    await page.locator('#passkey-login').waitFor();
    await page.waitForTimeout(300);
    expect(loginsSince(app, from)).toEqual([]);
    await page.locator('#passkey-login').click();
    await signedInAs(page, email);
    expect(loginsSince(app, from)).toEqual([200]);
    const options = app.requests.filter((r) => r.at >= from && r.path === '/auth/passkeys/login/options');
    expect(options).toHaveLength(1);
  });

  it('roaming security key (non-discoverable credential): sign in with an email through the button', async () => {
    const page = await context.newPage();
    const authenticator = await attach(page, securityKey);
    const email = newEmail('pk-usb');
    await signupViaApi(tls, app, email);
    await uiLogin(page, app, email);
    await addPasskeyInUi(page, app, 'YubiKey');
    expect((await authenticator.credentials())[0]?.isResidentCredential).toBe(false);
    await logOutAndLeave(page, authenticator);
    await page.goto(`${app.origin}/login`);
    // Nothing is offered in the autofill for a non-discoverable credential: the email names the account.
    await page.locator('form#login-form input[name=email]').fill(email);
    await page.locator('#passkey-login').click();
    await signedInAs(page, email);
  });

  it('step-up with a passkey authorises one transfer; the next transfer asks again', async () => {
    const page = await context.newPage();
    await attach(page, platform);
    const email = newEmail('pk-transfer');
    await signupViaApi(tls, app, email);
    await uiLogin(page, app, email);
    await addPasskeyInUi(page, app, 'Transfer key');
    await page.goto(`${app.origin}/transfer`);
    const send = async () => {
      await page.locator('#transfer-form input[name=amount]').fill('25');
      await page.locator('#transfer-form [type=submit]').click();
    };
    await send();
    await page.locator('#step-up-passkey').click();
    const result = page.locator('[data-testid=transfer-result]');
    await expect.poll(() => result.getAttribute('data-status')).toBe('ok');
    await send();
    // A second transfer needs a new step-up: the dialog is back; cancelling refuses the transfer.
    await page.locator('#step-up-form').waitFor();
    await page.locator('#step-up-form [data-action=cancel]').click();
    await expect.poll(() => result.getAttribute('data-status')).toBe('refused');
    const transfers = app.requests
      .filter((r) => r.path === '/api/transfer')
      .slice(-3)
      .map((r) => r.status);
    expect(transfers).toEqual([401, 200, 401]);
  });

  it('delete a passkey (step-up with the passkey itself); it is gone from the list and cannot sign in', async () => {
    const page = await context.newPage();
    const authenticator = await attach(page, platform);
    const email = newEmail('pk-delete');
    await signupViaApi(tls, app, email);
    await uiLogin(page, app, email);
    await addPasskeyInUi(page, app, 'Doomed key');
    const row = page.locator('[data-testid=passkey-row]').filter({ hasText: 'Doomed key' });
    await row.locator('[data-action=delete]').click();
    await page.locator('#step-up-passkey').click();
    await row.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('[data-testid=passkey-row]').count()).toBe(0);
    await logOutAndLeave(page, authenticator);
    // The credential is still in the authenticator, but the server no longer knows it.
    const from = Date.now();
    await page.goto(`${app.origin}/login`);
    await page.locator('#passkey-login').click();
    await page.locator('form#login-form .status-error').waitFor();
    expect(loginsSince(app, from)).not.toContain(200);
  });

  it('an authenticator without user verification, or whose verification fails, registers nothing', async () => {
    for (const options of [
      { transport: 'usb', hasResidentKey: true, hasUserVerification: false, isUserVerified: false },
      { transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: false },
    ] as const) {
      const ctx = await newContext(browser);
      const page = await ctx.newPage();
      const authenticator = await attach(page, options);
      const email = newEmail('pk-nouv');
      const from = Date.now();
      await signupViaApi(tls, app, email);
      await uiLogin(page, app, email);
      await page.goto(`${app.origin}/security`);
      await page.locator('#passkey-add').click();
      await stepUpWithPassword(page);
      await page.locator('#passkey-form ~ .status-error, .card .status-error').first().waitFor();
      expect(await page.locator('[data-testid=passkey-row]').count()).toBe(0);
      // The browser refused before anything reached the server: no registration was even sent.
      expect(app.requests.filter((r) => r.at >= from && r.path === '/auth/passkeys/register')).toHaveLength(0);
      expect((await authenticator.credentials()).length).toBe(0);
      await ctx.close();
    }
  });
});

describe('requireMfa in the demo', { timeout: 90_000 }, () => {
  it('a new account lands on the enrolment page, adds a passkey, signs in with it and gets the app', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await attach(page, platform);
    const email = newEmail('pk-strict');
    await page.goto(`${strictApp.origin}/signup`);
    const form = page.locator('form#signup-form');
    await form.locator('input[name=email]').fill(email);
    await form.locator('input[name=password]').fill(PASSWORD);
    await form.locator('[type=submit]').click();
    await page.locator('[data-testid=enroll-page]').waitFor();
    // The restricted session cannot open the app's pages: the server says 403.
    const denied = await page.evaluate(async () => (await fetch('/api/profile')).status);
    expect(denied).toBe(403);
    await page.locator('input[name=passkey-name]').fill('Phone');
    await page.locator('#enroll-passkey').click();
    await stepUpWithPassword(page);
    await page.locator('#enroll-signin').click();
    // The full session replaces the restricted one: the app renders its pages again.
    await page.locator('[data-testid=enroll-page]').waitFor({ state: 'detached' });
    await page.goto(`${strictApp.origin}/profile`);
    await signedInAs(page, email);
    expect(await page.locator('[data-testid=enroll-page]').count()).toBe(0);
    expect(await page.evaluate(async () => (await fetch('/api/profile')).status)).toBe(200);
    await context.close();
  });
});
