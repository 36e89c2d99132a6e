/**
 * Logout and revocation reach every tab and every browser (issue 4 and issue 5 item 8), through
 * the demo UI: a logout in one tab turns every tab of the browser to "signed out" within 1 s and
 * the old access cookie is dead; signing out another browser from the sessions page ends that
 * browser's session within 1 s.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppServer,
  hasChromium,
  httpsRequest,
  launchBrowser,
  makeCertificate,
  newContext,
  newEmail,
  requireChromium,
  signupViaApi,
  startApp,
  type Tls,
  uiLogin,
  within,
} from '../support/browser.js';

// Browser globals inside page.evaluate callbacks (module-local: the project has no DOM lib).
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const MutationObserver: any;

let tls: Tls;
let app: AppServer;
let browser: Browser;

// Without Chromium every test fails with the reason (beforeEach), rather than being skipped.
beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  [app, browser] = await Promise.all([startApp(tls), launchBrowser(tls)]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Records (in the page) the wall-clock time at which `[data-testid=logged-out]` first appears. */
async function watchForSignedOut(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.__signedOutAt = undefined;
    const check = () => {
      if (window.__signedOutAt === undefined && document.querySelector('[data-testid=logged-out]'))
        window.__signedOutAt = Date.now();
    };
    new MutationObserver(check).observe(document.documentElement, { childList: true, subtree: true });
    check();
  });
}

const signedOutAt = (page: Page): Promise<number | undefined> => page.evaluate(() => window.__signedOutAt);

/** Replays a cookie header from outside the browser (an attacker holding a copied cookie). */
const replay = (path: string, cookie: string, method = 'GET') =>
  httpsRequest(tls, `${app.origin}${path}`, {
    method,
    headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin', Origin: app.origin },
  });

/** A fresh account, signed in through the UI in two separate browsers (contexts) A and B. */
async function twoBrowsersSignedIn(
  email: string,
): Promise<{ a: BrowserContext; b: BrowserContext; pageA: Page; pageB: Page }> {
  await signupViaApi(tls, app, email);
  const [a, b] = [await newContext(browser), await newContext(browser)];
  const [pageA, pageB] = [await a.newPage(), await b.newPage()];
  await uiLogin(pageA, app, email);
  await uiLogin(pageB, app, email);
  return { a, b, pageA, pageB };
}

async function cookie(context: BrowserContext, name: string): Promise<string> {
  const found = (await context.cookies([app.origin, `${app.origin}/auth/refresh`])).find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} cookie in the browser`);
  return `${name}=${found.value}`;
}

describe('logout in one tab', { timeout: 60_000 }, () => {
  it('moves every tab to signed out within 1 s; the old access cookie is then refused', async () => {
    const email = newEmail('logout');
    await signupViaApi(tls, app, email);
    const context = await newContext(browser);
    try {
      const first = await context.newPage();
      await uiLogin(first, app, email);
      const tabs = [first];
      for (const path of ['/notes', '/sessions', '/profile']) {
        const tab = await context.newPage();
        await tab.goto(`${app.origin}${path}`);
        await tab.locator('[data-testid=user-email]').filter({ hasText: email }).waitFor();
        tabs.push(tab);
      }
      const access = await cookie(context, '__Host-tw_at');
      const refresh = await cookie(context, '__Secure-tw_rt');
      // Control: the copied cookie works before the logout.
      expect((await replay('/api/profile', access)).status).toBe(200);
      for (const tab of tabs) await watchForSignedOut(tab);

      const clickedAt = Date.now();
      await tabs[1]?.locator('button#logout').click();
      for (const tab of tabs)
        await tab.locator('[data-testid=logged-out]').waitFor({ state: 'visible', timeout: 5_000 });
      const delays = (await Promise.all(tabs.map(signedOutAt))).map((t) => (t ?? Number.POSITIVE_INFINITY) - clickedAt);
      console.log(`[logout] tabs signed out after ${delays.join(', ')} ms (clicked in tab 1)`);
      for (const d of delays) expect(d).toBeLessThan(1000);
      for (const tab of tabs) expect(await tab.locator('[data-testid=user-email]').count()).toBe(0);

      // The old cookies, replayed with plain HTTP requests, are refused.
      const old = await replay('/api/profile', access);
      expect(old.status).toBe(401);
      expect(JSON.parse(old.body).code).toBe('invalid_token');
      expect((await replay('/auth/refresh', refresh, 'POST')).status).toBe(401);
      // And the browser no longer holds them.
      const names = (await context.cookies([app.origin, `${app.origin}/auth/refresh`])).map((c) => c.name);
      expect(names.filter((n) => n.includes('tw_at') || n.includes('tw_rt'))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('signing out another browser from the sessions page', { timeout: 60_000 }, () => {
  it("ends the other browser's session within 1 s: its token is refused and its UI shows signed out", async () => {
    const email = newEmail('revoke');
    const { a, b, pageA, pageB } = await twoBrowsersSignedIn(email);
    try {
      const accessB = await cookie(b, '__Host-tw_at');
      expect((await replay('/api/profile', accessB)).status).toBe(200);

      // B's session id, as B's own sessions page shows it.
      await pageB.goto(`${app.origin}/sessions`);
      const idB = await pageB
        .locator('[data-testid=session-row]')
        .filter({ has: pageB.locator('[data-testid=current-session]') })
        .getAttribute('data-session-id');
      expect(idB).toEqual(expect.any(String));
      await pageB.goto(`${app.origin}/profile`);
      await pageB.locator('[data-testid=user-email]').waitFor();
      await watchForSignedOut(pageB);

      // A revokes B from its sessions page.
      await pageA.goto(`${app.origin}/sessions`);
      const rowB = pageA.locator(`[data-testid=session-row][data-session-id="${idB}"]`);
      await rowB.waitFor();
      expect(await rowB.locator('[data-testid=current-session]').count()).toBe(0);
      const deleted = pageA.waitForResponse(
        (r) => r.request().method() === 'DELETE' && r.url().endsWith(`/auth/sessions/${idB}`),
      );
      await rowB.locator('button[data-action=revoke]').click();
      expect((await deleted).status()).toBe(204);
      const revokedAt = Date.now();

      // B's copied access token is refused within 1 s...
      const tokenDeadAfter = await within(1000, async () => (await replay('/api/profile', accessB)).status === 401);
      // ...and B's next protected call (client-side navigation to Notes) signs its UI out.
      const navigatedAt = Date.now();
      await pageB.locator('a[href="/notes"]').first().click();
      await pageB.locator('[data-testid=logged-out]').waitFor({ state: 'visible', timeout: 5_000 });
      const shownAt = (await signedOutAt(pageB)) ?? Number.POSITIVE_INFINITY;
      console.log(
        `[revoke] B's token refused ${tokenDeadAfter} ms after the revocation; B's UI signed out ${shownAt - navigatedAt} ms after its next call (${shownAt - revokedAt} ms after the revocation)`,
      );
      expect(shownAt - navigatedAt).toBeLessThan(1000);
      expect(await pageB.locator('[data-testid=user-email]').count()).toBe(0);
      const refreshes = app.requests.filter(
        (r) => r.at >= revokedAt && r.method === 'POST' && r.path === '/auth/refresh',
      );
      expect(refreshes.map((r) => r.status)).toEqual([401]); // B tried once, was refused, stopped

      // A is untouched and now lists one session fewer.
      expect(await pageA.locator('[data-testid=user-email]').textContent()).toBe(email);
      await rowB.waitFor({ state: 'detached' });
      expect(await pageA.locator('[data-testid=session-row]').count()).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('"Log out all" in one browser', { timeout: 60_000 }, () => {
  it("ends the other browser's session too: its copied token is refused within 1 s and its next call signs it out", async () => {
    const email = newEmail('logout-all');
    const { a, b, pageA, pageB } = await twoBrowsersSignedIn(email);
    try {
      const accessA = await cookie(a, '__Host-tw_at');
      const accessB = await cookie(b, '__Host-tw_at');
      const refreshB = await cookie(b, '__Secure-tw_rt');
      expect((await replay('/api/profile', accessB)).status).toBe(200);
      await watchForSignedOut(pageA);
      await watchForSignedOut(pageB);

      const done = pageA.waitForResponse(
        (r) => r.request().method() === 'POST' && r.url().endsWith('/auth/logout-all'),
      );
      await pageA.locator('button#logout-all').click();
      expect((await done).status()).toBe(204);
      const at = Date.now();
      await pageA.locator('[data-testid=logged-out]').waitFor({ state: 'visible' });
      const deadAfter = await within(1000, async () => (await replay('/api/profile', accessB)).status === 401);
      expect((await replay('/api/profile', accessA)).status).toBe(401);
      expect((await replay('/auth/refresh', refreshB, 'POST')).status).toBe(401);

      const navigatedAt = Date.now();
      await pageB.locator('a[href="/notes"]').first().click();
      await pageB.locator('[data-testid=logged-out]').waitFor({ state: 'visible', timeout: 5_000 });
      const shownAt = (await signedOutAt(pageB)) ?? Number.POSITIVE_INFINITY;
      console.log(
        `[logout-all] B's token refused ${deadAfter} ms after A's "Log out all"; B's UI signed out ${shownAt - navigatedAt} ms after its next call (${shownAt - at} ms after)`,
      );
      expect(shownAt - navigatedAt).toBeLessThan(1000);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
