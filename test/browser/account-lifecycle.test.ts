/**
 * The account's life in real Chromium, with the mail read from a real SMTP server (smtp-server,
 * STARTTLS with a self-signed certificate trusted through mail.smtpCaFile): forgot → mail → reset
 * page → signed in; signup → verification link → confirmed; magic link; email change behind
 * step-up; "this wasn't me" from the new-device mail; and, without SMTP, the demo's Outbox page.
 * Every link opens a page of the app that changes nothing until the person confirms.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
} from '../support/browser.js';
import { linkIn, makeSmtpCertificate, type SmtpTestServer, type SmtpTls, startSmtpServer } from '../support/smtp.js';

let tls: Tls;
let smtpTls: SmtpTls;
let smtp: SmtpTestServer;
let app: AppServer;
let browser: Browser;

beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  smtpTls = makeSmtpCertificate();
  smtp = await startSmtpServer({ tls: 'starttls', certificate: smtpTls });
  [app, browser] = await Promise.all([
    startApp(tls, {
      magicLink: { enabled: true },
      mail: { smtpUrl: smtp.url, smtpCaFile: smtpTls.caFile, limitPerAddress: '1000/1h', limitPerIp: '100000/1h' },
    }),
    launchBrowser(tls),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await smtp?.stop();
  smtpTls?.dispose();
});

/** The link of the newest mail to `to` whose subject matches, once it arrived (the app's origin). */
async function mailedLink(to: string, subject: RegExp, page: string, after = 0): Promise<string> {
  const mail = await smtp.waitForMail(
    (m) => m.to.includes(to) && subject.test(m.subject) && m.receivedAt >= after,
    15_000,
  );
  const link = linkIn(mail, page);
  expect(link.origin).toBe(app.origin);
  return link.href;
}

async function expectSignedInAs(page: Page, email: string): Promise<void> {
  await page.locator('[data-testid=user-email]').filter({ hasText: email }).first().waitFor({ state: 'visible' });
}

/** Opens a link's page (nothing is used until the page's button or form is). */
async function openLink(page: Page, href: string): Promise<void> {
  const response = await page.goto(href);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['cache-control']).toBe('no-store');
  expect(response?.headers()['referrer-policy']).toBe('no-referrer');
}

describe('account lifecycle in Chromium (real SMTP)', () => {
  it('forgot password → mail → reset page → signed in with the new password', async () => {
    const email = newEmail('reset');
    await signupViaApi(tls, app, email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.origin}/login`);
    await page.locator('[data-testid=forgot-link]').click();
    await page.locator('form#forgot-form input[name=email]').fill(email);
    const asked = Date.now();
    await page.locator('form#forgot-form [type=submit]').click();
    await page.locator('form#forgot-form .status-ok').waitFor();
    const href = await mailedLink(email, /reset/i, 'reset-password', asked - 1000);
    await openLink(page, href);
    // Reloading the page (a scanner, a second look) does not use the link: the form still works.
    await page.reload();
    await page.locator('form#reset-form input[name=password]').fill('my brand new passphrase 9');
    await page.locator('form#reset-form [type=submit]').click();
    await expectSignedInAs(page, email);
    expect(new URL(page.url()).pathname).toBe('/profile');
    await context.close();
    // The new password works, the old one no longer does.
    const check = await newContext(browser);
    const again = await check.newPage();
    await uiLogin(again, app, email, 'my brand new passphrase 9');
    await check.close();
  });

  it('signup → "confirm your address" banner → the mailed link → confirmed, banner gone', async () => {
    const email = newEmail('verify');
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.origin}/signup`);
    const form = page.locator('form#signup-form');
    await form.locator('input[name=email]').fill(email);
    await form.locator('input[name=password]').fill(PASSWORD);
    const signedUp = Date.now();
    await form.locator('[type=submit]').click();
    await expectSignedInAs(page, email);
    await page.locator('[data-testid=verify-banner]').waitFor({ state: 'visible' });
    const href = await mailedLink(email, /confirm your email/i, 'verify-email', signedUp - 1000);
    await openLink(page, href);
    await page.locator('[data-testid=confirm-link]').click();
    await page.locator('[data-testid=link-done]').waitFor();
    await page.goto(`${app.origin}/profile`);
    await expectSignedInAs(page, email);
    expect(await page.locator('[data-testid=verify-banner]').count()).toBe(0);
    await context.close();
  });

  it('magic link: "Email me a sign-in link" → mail → link page → signed in', async () => {
    const email = newEmail('magic');
    await signupViaApi(tls, app, email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${app.origin}/login`);
    await page.locator('form#login-form input[name=email]').fill(email);
    const asked = Date.now();
    await page.locator('[data-testid=magic-link-button]').click();
    await page.locator('form#login-form .status-ok').waitFor();
    const href = await mailedLink(email, /sign-in link/i, 'magic-link', asked - 1000);
    await openLink(page, href);
    await page.locator('[data-testid=confirm-link]').click();
    await expectSignedInAs(page, email);
    // Used once: the same link again says so.
    const other = await (await newContext(browser)).newPage();
    await other.goto(href);
    await other.locator('[data-testid=confirm-link]').click();
    await other.locator('[data-testid=link-error]').waitFor();
    await other.context().close();
    await context.close();
  });

  it('email change: the form asks for the password (step-up), the link to the new address confirms it; the session stays', async () => {
    const email = newEmail('change');
    const next = newEmail('changed');
    await signupViaApi(tls, app, email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await uiLogin(page, app, email);
    await page.goto(`${app.origin}/security`);
    await page.locator('form#email-change-form input[name=email]').fill(next);
    const asked = Date.now();
    await page.locator('form#email-change-form [type=submit]').click();
    await page.locator('form#step-up-form input[name=password]').fill(PASSWORD);
    await page.locator('form#step-up-form [type=submit]').click();
    await page.locator('form#email-change-form .status-ok').waitFor();
    const notice = await smtp.waitForMail(
      (m) => m.to.includes(email) && /being changed/i.test(m.subject) && m.receivedAt >= asked - 1000,
    );
    expect(notice.text).not.toContain('token=');
    const href = await mailedLink(next, /new email/i, 'confirm-email-change', asked - 1000);
    await openLink(page, href);
    await page.locator('[data-testid=confirm-link]').click();
    await page.locator('[data-testid=link-done]').waitFor();
    await page.goto(`${app.origin}/security`);
    await expectSignedInAs(page, next);
    await page.locator('[data-testid=current-email]').filter({ hasText: next }).waitFor();
    await context.close();
  });

  it('security page: "Download my data" downloads the export; "Delete my account" asks twice, then signs out for good', async () => {
    const email = newEmail('data');
    await signupViaApi(tls, app, email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await uiLogin(page, app, email);
    await page.goto(`${app.origin}/security`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-account').click()]);
    expect(download.suggestedFilename()).toBe('account-export.json');
    const exported = JSON.parse(
      await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString('utf8')),
    ) as {
      user: { email: string };
    };
    expect(exported.user.email).toBe(email);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('#delete-account').click();
    await page.locator('form#step-up-form input[name=password]').fill(PASSWORD);
    await page.locator('form#step-up-form [type=submit]').click();
    await page.locator('[data-testid=logged-out]').waitFor();
    const retry = await (await newContext(browser)).newPage();
    await retry.goto(`${app.origin}/login`);
    await retry.locator('form#login-form input[name=email]').fill(email);
    await retry.locator('form#login-form input[name=password]').fill(PASSWORD);
    await retry.locator('form#login-form [type=submit]').click();
    await retry.locator('form#login-form .status-error').waitFor();
    await retry.context().close();
    await context.close();
  });

  it('"this wasn\'t me" from the new-device mail signs the other browser out', async () => {
    const email = newEmail('notme');
    await signupViaApi(tls, app, email);
    const owner = await newContext(browser);
    const ownerPage = await owner.newPage();
    await uiLogin(ownerPage, app, email);
    // The owner's own first browser login was "new" too: let its mail pass before the thief's.
    await smtp.waitForMail((m) => m.to.includes(email) && /new sign-in/i.test(m.subject), 15_000);
    const started = Date.now();
    // Another browser family: a device this account never used.
    const thief = await browser.newContext({
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    });
    const thiefPage = await thief.newPage();
    await uiLogin(thiefPage, app, email);
    const mail = await smtp.waitForMail(
      (m) => m.to.includes(email) && /new sign-in/i.test(m.subject) && m.receivedAt >= started,
      15_000,
    );
    expect(mail.text).toContain('Firefox on Linux');
    const href = linkIn(mail, 'not-me').href;
    await openLink(ownerPage, href);
    await ownerPage.locator('[data-testid=confirm-link]').click();
    await ownerPage.locator('[data-testid=link-done]').waitFor();
    // The other browser's session is over: its next check signs it out.
    await thiefPage.reload();
    await thiefPage.locator('[data-testid=logged-out]').waitFor();
    await owner.close();
    await thief.close();
  });
});

describe('the demo without SMTP: the Outbox page', () => {
  let plain: AppServer;
  beforeAll(async () => {
    if (!hasChromium()) return;
    plain = await startApp(tls);
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('lists the mails; their links open the app and confirm the address', async () => {
    const email = newEmail('outbox');
    await signupViaApi(tls, plain, email);
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${plain.origin}/outbox`);
    const mail = page.locator('[data-testid=outbox-mail]').filter({ hasText: email }).first();
    await mail.waitFor();
    await mail.locator('[data-testid=mail-link]').click();
    await page.waitForURL(/\/account\/verify-email\?token=/);
    await page.locator('[data-testid=confirm-link]').click();
    await page.locator('[data-testid=link-done]').waitFor();
    await context.close();
  });
});
