/**
 * tokenward/react in real Chromium: a small React app (test/browser/react-app, built once per run
 * with Vite) served by the real Tokenward server over HTTPS. Logging out in one tab makes the
 * other tab's `useSession()` signed-out; tabs with an expired access token refresh exactly once
 * between them; `useAuth().fetchWithStepUp` opens the step-up prompt and retries after it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_CSP } from '../../demo/app.js';
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
  within,
} from '../support/browser.js';

type Win = { app?: { fetch: (path: string) => Promise<number>; states: string[] } };
declare const window: Win;

const APP_DIR = fileURLToPath(new URL('./react-app/', import.meta.url));
const SRC = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

let tls: Tls;
let app: AppServer;
let browser: Browser;
let outDir: string;

/** Builds the React app with Vite (tokenward/* from the sources), once for this run. */
async function buildReactApp(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'tokenward-react-app-'));
  await build({
    root: APP_DIR,
    base: '/react/',
    logLevel: 'warn',
    configFile: false,
    resolve: { alias: { 'tokenward/react': SRC('react/index.ts'), 'tokenward/client': SRC('client/index.ts') } },
    oxc: { jsx: { runtime: 'automatic' } },
    build: { outDir: out, emptyOutDir: true, minify: false },
  });
  return out;
}

beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  [app, browser, outDir] = await Promise.all([startApp(tls, {}, { ui: false }), launchBrowser(tls), buildReactApp()]);
  // The built app under /react/ (index.html for the page itself), with the demo's strict CSP.
  app.tw.app.get('/react/*', (c) => {
    const relative = normalize(c.req.path.slice('/react/'.length) || 'index.html');
    if (relative.startsWith('..')) return c.notFound();
    try {
      const body = readFileSync(join(outDir, relative));
      return new Response(body, {
        headers: {
          'Content-Type': TYPES[extname(relative)] ?? 'application/octet-stream',
          'Content-Security-Policy': DEMO_CSP,
          'Cache-Control': 'no-store',
        },
      });
    } catch {
      return c.notFound();
    }
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function openApp(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${app.origin}/react/`);
  await page.waitForFunction(() => window.app !== undefined);
  return page;
}

const status = (page: Page) => page.getByTestId('status');

describe('tokenward/react in Chromium', { timeout: 60_000 }, () => {
  it("signing up in one tab signs in the other; logging out in one tab makes the other tab's useSession() signed-out", async () => {
    const context = await newContext(browser);
    try {
      const meAtStart = app.count('GET', '/auth/me');
      const [first, second] = [await openApp(context), await openApp(context)];
      await expect.poll(() => status(second).textContent()).toBe('anonymous');
      // One GET /auth/me per tab, although StrictMode runs the provider's effects twice.
      expect(app.count('GET', '/auth/me') - meAtStart).toBe(2);
      const email = newEmail('react');
      await first.locator('input[name=email]').fill(email);
      await first.locator('input[name=password]').fill(PASSWORD);
      await first.getByRole('button', { name: 'Sign up' }).click();
      await expect.poll(() => status(first).textContent()).toBe(`signed in as ${email}`);
      await expect.poll(() => status(second).textContent()).toBe(`signed in as ${email}`);

      const meCallsBefore = app.count('GET', '/auth/me');
      await first.getByRole('button', { name: 'Log out' }).click();
      const ms = await within(3000, async () => (await status(second).textContent()) === 'anonymous');
      console.log(`[react] the other tab's useSession() was signed-out ${ms} ms after the click`);
      // The second tab learned it from the first (BroadcastChannel), not by asking the server.
      expect(app.count('GET', '/auth/me')).toBe(meCallsBefore);
      expect(await second.evaluate(() => window.app?.states)).toEqual([
        'unknown',
        'anonymous',
        'authenticated',
        'anonymous',
      ]);
      // And the server agrees: the session is gone.
      await second.getByRole('button', { name: 'Profile' }).click();
      await expect.poll(() => second.getByTestId('message').textContent()).toBe('HTTP 401');
    } finally {
      await context.close();
    }
  });

  it('four tabs with an expired access token make exactly one POST /auth/refresh; every call succeeds', async () => {
    const context = await newContext(browser);
    try {
      const email = newEmail('react-tabs');
      await signupViaApi(tls, app, email);
      const pages = [await openApp(context)];
      await pages[0]?.locator('input[name=email]').fill(email);
      await pages[0]?.locator('input[name=password]').fill(PASSWORD);
      await pages[0]?.getByRole('button', { name: 'Log in' }).click();
      while (pages.length < 4) pages.push(await openApp(context));
      for (const page of pages) await expect.poll(() => status(page).textContent()).toBe(`signed in as ${email}`);

      app.clock.advance(app.tw.config.accessTtlSec + 5); // every tab's access token is now expired
      const from = app.requests.length;
      const at = Date.now() + 400;
      const statuses = await Promise.all(
        pages.map((page) =>
          page.evaluate(async (at) => {
            await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
            return Promise.all([window.app?.fetch('/api/profile'), window.app?.fetch('/api/notes')]);
          }, at),
        ),
      );
      const seen = app.requests.slice(from);
      const refreshes = seen.filter((r) => r.method === 'POST' && r.path === '/auth/refresh');
      console.log(
        `[react] ${refreshes.length} refresh for ${pages.length} tabs; ${seen.filter((r) => r.path.startsWith('/api/') && r.status === 401).length} calls saw 401 first`,
      );
      expect(seen.filter((r) => r.path.startsWith('/api/') && r.status === 401).length).toBeGreaterThan(0);
      expect(refreshes.map((r) => r.status)).toEqual([200]);
      expect(statuses.flat()).toEqual(Array(pages.length * 2).fill(200));
      for (const page of pages) expect(await status(page).textContent()).toBe(`signed in as ${email}`);
    } finally {
      await context.close();
    }
  });

  it('fetchWithStepUp: 401 step_up_required opens the prompt; a wrong password keeps it open with the code, the right one retries once', async () => {
    const context = await newContext(browser);
    try {
      const email = newEmail('react-step-up');
      await signupViaApi(tls, app, email);
      const page = await openApp(context);
      await page.locator('input[name=email]').fill(email);
      await page.locator('input[name=password]').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => status(page).textContent()).toBe(`signed in as ${email}`);

      const from = app.requests.length;
      await page.getByRole('button', { name: 'Transfer' }).click();
      const prompt = page.getByTestId('step-up');
      await prompt.waitFor({ state: 'visible' });
      await prompt.locator('input').fill('not the password');
      await prompt.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByTestId('step-up-error').textContent()).toBe('invalid_credentials');
      await prompt.locator('input').fill(PASSWORD);
      await prompt.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByTestId('message').textContent()).toBe('HTTP 200');
      await prompt.waitFor({ state: 'detached' });

      const calls = app.requests
        .slice(from)
        .filter((r) => r.method === 'POST' && (r.path === '/api/transfer' || r.path === '/auth/step-up'));
      expect(calls.map((r) => `${r.path} ${r.status}`)).toEqual([
        '/api/transfer 401',
        '/auth/step-up 401',
        '/auth/step-up 200',
        '/api/transfer 200',
      ]);

      // Cancelling resolves with the original 401 and sends no step-up.
      await page.getByRole('button', { name: 'Transfer' }).click();
      await prompt.waitFor({ state: 'visible' });
      await prompt.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => page.getByTestId('message').textContent()).toBe('HTTP 401');
    } finally {
      await context.close();
    }
  });
});
