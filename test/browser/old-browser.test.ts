/**
 * Old browsers, the way they reach the server (issue 15): real Chromium behind a small proxy that
 * removes every `Sec-Fetch-*` and `Origin` request header — what a browser from before Fetch
 * Metadata (and before Origin on same-origin POSTs) sends. The demo shows the banner, the login
 * works through the signed double-submit fallback, a protected POST with the SDK's `X-CSRF-Token`
 * succeeds, and the same POST without it is 403. The server runs `browsers.unsupported: 'block'`:
 * a degraded browser is still served, an Internet Explorer User-Agent is refused at login.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  APP_HOST,
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

type Client = {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  me: () => Promise<{ session: { id: string } } | null>;
  browserSupport: () => Promise<{ status: string; reason: string | null }>;
};
// Browser globals inside page.evaluate callbacks (module-local: the project has no DOM lib).
declare const window: { tw: { client: Client } };

const IE11 = 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko';

/** Request headers an old browser does not send. */
const STRIPPED = /^(sec-fetch-|origin$)/i;

interface StrippingProxy {
  origin: string;
  port: number;
  /** Where to forward (the app's port), set once the app listens. */
  target: number;
  /** Names of the headers it removed, over all requests. */
  removed: Set<string>;
  forwarded: number;
  close: () => Promise<void>;
}

/** A TLS proxy for app.test that forwards everything to the app except the stripped headers. */
async function startStrippingProxy(tls: Tls): Promise<StrippingProxy> {
  const proxy: StrippingProxy = {
    origin: '',
    port: 0,
    target: 0,
    removed: new Set(),
    forwarded: 0,
    close: async () => undefined,
  };
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (STRIPPED.test(name)) proxy.removed.add(name.toLowerCase());
      else headers[name] = value;
    }
    proxy.forwarded += 1;
    const upstream = https.request(
      {
        host: '127.0.0.1',
        port: proxy.target,
        method: req.method,
        path: req.url,
        headers,
        servername: APP_HOST,
        ca: tls.cert,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.origin = `https://${APP_HOST}:${proxy.port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}

let tls: Tls;
let app: AppServer;
let proxy: StrippingProxy;
let browser: Browser;

beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  proxy = await startStrippingProxy(tls);
  // The public origin is the proxy's: it is what the browser sees.
  [app, browser] = await Promise.all([
    startApp(tls, { publicOrigin: proxy.origin, browsers: { unsupported: 'block' } }),
    launchBrowser(tls),
  ]);
  proxy.target = app.port;
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await app?.close();
});

describe('an old browser (no Sec-Fetch-*, no Origin) through a header-stripping proxy', { timeout: 90_000 }, () => {
  let context: BrowserContext;
  let email: string;

  beforeAll(async () => {
    if (!hasChromium()) return;
    context = await newContext(browser);
    email = newEmail('old-browser');
    await signupViaApi(tls, app, email);
  });
  afterAll(async () => {
    await context?.close();
  });

  it('the demo shows a dismissible banner before login; login works through the double-submit fallback', async () => {
    const page = await context.newPage();
    const from = app.requests.length;
    await page.goto(`${proxy.origin}/`);
    const banner = page.locator('[data-testid=browser-banner]');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.getAttribute('data-status')).toBe('degraded');
    expect(await banner.getAttribute('data-reason')).toBe('fetch_metadata_stripped');
    expect(await banner.textContent()).toContain('removes security headers');

    // Log in through the demo's form: no Fetch Metadata, no Origin, so only the anonymous
    // double-submit token (cookie from /auth/me, echoed by the SDK) lets the login through.
    await uiLogin(page, { ...app, origin: proxy.origin }, email);
    const login = app.requests.slice(from).find((r) => r.method === 'POST' && r.path === '/auth/login');
    expect(login).toMatchObject({ status: 200, origin: null, secFetchSite: null });
    // Nothing that reached the app through the proxy carried the headers (the proxy did strip them).
    for (const r of app.requests.slice(from)) expect([r.path, r.origin, r.secFetchSite]).toEqual([r.path, null, null]);
    expect([...proxy.removed]).toEqual(expect.arrayContaining(['sec-fetch-site', 'sec-fetch-mode', 'origin']));

    // Signed in, the banner stays (the state carries the verdict) until dismissed.
    expect(await banner.isVisible()).toBe(true);
    await page.locator('[data-testid=browser-banner-dismiss]').click();
    await banner.waitFor({ state: 'detached' });
    await page.click('a[href="/notes"]');
    await page.waitForSelector('#note-form');
    expect(await banner.count()).toBe(0);
    await page.close();
  });

  it('a protected POST with the double-submit token succeeds (201); the same POST without it is 403 csrf_rejected', async () => {
    const page = await context.newPage();
    await page.goto(`${proxy.origin}/__test/sdk`);
    await page.waitForFunction('window.tw !== undefined');
    const result = await page.evaluate(async () => {
      const { client } = window.tw;
      const me = await client.me();
      const post = (text: string, init: RequestInit, sdk: boolean) => {
        const request: RequestInit = {
          ...init,
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
          body: JSON.stringify({ text }),
        };
        return sdk
          ? client.fetch('/api/notes', request)
          : fetch('/api/notes', { ...request, credentials: 'same-origin' });
      };
      const withToken = await post('with the token', {}, true);
      const withoutToken = await post('without the token', {}, false);
      const wrongToken = await post('with a wrong token', { headers: { 'X-CSRF-Token': 'x'.repeat(22) } }, false);
      const notes = (await (await client.fetch('/api/notes')).json()) as { notes: { text: string }[] };
      return {
        signedIn: me !== null,
        withToken: withToken.status,
        withoutToken: { status: withoutToken.status, body: await withoutToken.json() },
        wrongToken: wrongToken.status,
        notes: notes.notes.map((n) => n.text),
        support: await client.browserSupport(),
      };
    });
    expect(result.signedIn).toBe(true);
    expect(result.withToken).toBe(201);
    expect(result.withoutToken.status).toBe(403);
    expect(result.withoutToken.body).toMatchObject({ code: 'csrf_rejected' });
    expect(result.wrongToken).toBe(403);
    // Nothing was changed by the refused requests.
    expect(result.notes).toEqual(['with the token']);
    expect(result.support).toMatchObject({ status: 'degraded', reason: 'fetch_metadata_stripped' });
    // The accepted POST arrived as an old browser's: no Origin, no Sec-Fetch-Site.
    const accepted = app.requests.filter((r) => r.method === 'POST' && r.path === '/api/notes' && r.status === 201);
    expect(accepted.map((r) => [r.origin, r.secFetchSite])).toEqual([[null, null]]);
    await page.close();
  });

  it('the lab shows which protections hold: Fetch Metadata missing, the token layers in use', async () => {
    const page = await context.newPage();
    await page.goto(`${proxy.origin}/lab`);
    const card = page.locator('[data-testid=browser-protections]');
    await card.locator('[data-testid=browser-status]').waitFor();
    expect(await card.locator('[data-testid=browser-status]').textContent()).toBe('Degraded');
    const state = (name: string) =>
      card.locator(`[data-testid=protection][data-name^="${name}"]`).getAttribute('data-state');
    expect(await state('Fetch Metadata')).toBe('missing');
    expect(await state('Origin check and signed CSRF token')).toBe('active');
    expect(await state('HttpOnly cookies')).toBe('active');
    expect(await state('SameSite cookies')).toBe('active');
    await page.close();
  });
});

describe('the same Chromium without the proxy, and an Internet Explorer User-Agent', { timeout: 90_000 }, () => {
  it('direct: supported, no banner, Fetch Metadata active in the lab', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${app.origin}/lab`);
      const card = page.locator('[data-testid=browser-protections]');
      await card.locator('[data-testid=browser-status]').waitFor();
      expect(await card.locator('[data-testid=browser-status]').textContent()).toBe('Supported');
      expect(
        await card.locator('[data-testid=protection][data-name^="Fetch Metadata"]').getAttribute('data-state'),
      ).toBe('active');
      expect(await page.locator('[data-testid=browser-banner]').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('an IE 11 User-Agent: the banner says unsupported, and the login is refused (browsers.unsupported: block)', async () => {
    const context = await browser.newContext({ userAgent: IE11 });
    try {
      const email = newEmail('ie');
      await signupViaApi(tls, app, email);
      const page = await context.newPage();
      await page.goto(`${proxy.origin}/login`);
      const banner = page.locator('[data-testid=browser-banner]');
      await banner.waitFor({ state: 'visible' });
      expect(await banner.getAttribute('data-status')).toBe('unsupported');
      expect(await banner.getAttribute('data-reason')).toBe('samesite_ignored');
      const from = app.requests.length;
      const form = page.locator('form#login-form');
      await form.locator('input[name=email]').fill(email);
      await form.locator('input[name=password]').fill(PASSWORD);
      await form.locator('[type=submit]').first().click();
      await page.locator('.status-error').filter({ hasText: 'cannot keep your login safe' }).waitFor();
      const login = app.requests.slice(from).find((r) => r.method === 'POST' && r.path === '/auth/login');
      expect(login?.status).toBe(400);
      expect(await page.locator('[data-testid=user-email]').count()).toBe(0);
      expect((await context.cookies(proxy.origin)).map((c) => c.name)).not.toContain('__Host-tw_at');
    } finally {
      await context.close();
    }
  });
});
