/**
 * examples/next (App Router) built with `next build` against the packed tarball, run with
 * `next start`, driven in Chromium: the edge middleware sends a signed-out visitor to the login
 * page, signing up lands on a protected server component, a guarded route handler applies the
 * CSRF rule, logging out locks the dashboard again, and an expired access token is refreshed by
 * the login page without asking for the password.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  hasChromium,
  launchBrowser,
  makeCertificate,
  newContext,
  newEmail,
  PASSWORD,
  requireChromium,
} from '../support/browser.js';
import { type BackgroundProcess, nextExampleBuild, startInBackground } from '../support/package.js';

const ACCESS_TTL_SEC = 10;

let browser: Browser;
let next: BackgroundProcess;
let origin: string;
let dataDir: string;

beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  const [{ dir }, launched] = await Promise.all([nextExampleBuild(), launchBrowser(makeCertificate())]);
  browser = launched;
  dataDir = mkdtempSync(join(tmpdir(), 'tokenward-next-'));
  const { freePort } = await import('../support/process.js');
  const port = await freePort();
  origin = `http://localhost:${port}`;
  next = await startInBackground(dir, join(dir, 'node_modules/.bin/next'), ['start', '-p', String(port)], {
    port,
    readyPath: '/.well-known/jwks.json',
    env: {
      TOKENWARD_PUBLIC_ORIGIN: origin,
      TOKENWARD_DATA_DIR: dataDir,
      TOKENWARD_ACCESS_TTL: `${ACCESS_TTL_SEC}s`,
      TOKENWARD_LOG_LEVEL: 'warn',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await next?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function signUp(page: Page, email: string): Promise<void> {
  const form = page.getByTestId('signup-form');
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=password]').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
}

describe('Next.js example (tokenward/next, tokenward/next/middleware, tokenward/react) in Chromium', {
  timeout: 90_000,
}, () => {
  it('middleware → login; sign up → the protected server component; the route handler guard; log out → locked again', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/dashboard`);
      await page.waitForURL(`${origin}/login?returnTo=%2Fdashboard`);

      const email = newEmail('next');
      await signUp(page, email);
      await page.waitForURL(`${origin}/dashboard`);
      await expect.poll(() => page.getByTestId('dashboard-user').textContent()).toBe(email);
      const cookies = await context.cookies([origin, `${origin}/auth/refresh`]);
      expect(cookies.find((c) => c.name === '__Host-tw_at')).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        path: '/',
      });
      expect(cookies.find((c) => c.name === '__Secure-tw_rt')).toMatchObject({ httpOnly: true, path: '/auth' });

      // withSession(): the page's own POST passes; the same cookies from another site are refused.
      const own = await page.evaluate(() =>
        fetch('/api/notes', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: 'hi' }),
        }).then((r) => r.status),
      );
      expect(own).toBe(201);
      const cookie = cookies
        .filter((c) => c.path === '/')
        .map((c) => `${c.name}=${c.value}`)
        .join('; ');
      const forged = await fetch(`${next.url}/api/notes`, {
        method: 'POST',
        headers: { Cookie: cookie, Origin: 'https://evil.example', 'Content-Type': 'application/json' },
        body: '{"text":"x"}',
      });
      expect(forged.status).toBe(403);
      expect(await forged.json()).toMatchObject({ code: 'csrf_rejected' });

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${origin}/login`);
      expect(
        (await context.cookies([origin, `${origin}/auth/refresh`]))
          .map((c) => c.name)
          .filter((n) => n.includes('tw_at') || n.includes('tw_rt')),
      ).toEqual([]);
      await page.goto(`${origin}/dashboard`);
      await page.waitForURL(`${origin}/login?returnTo=%2Fdashboard`);
      await page.getByTestId('signup-form').waitFor({ state: 'visible' });
    } finally {
      await context.close();
    }
  });

  it('a signed-out request to the guarded route handler gets the 401 problem+json; the home page (getSession) shows signed out', async () => {
    const res = await fetch(`${next.url}/api/notes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: '{"text":"x"}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' });
    expect(await (await fetch(`${next.url}/`)).text()).toContain('signed out');
  });

  it('an expired access token: the middleware sends the visitor to /login, whose SDK refreshes and returns to the dashboard', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/login`);
      const email = newEmail('next-expiry');
      await signUp(page, email);
      await page.waitForURL(`${origin}/dashboard`);
      // No page open: nothing refreshes proactively while the access cookie expires.
      await page.close();
      await new Promise((r) => setTimeout(r, (ACCESS_TTL_SEC + 1) * 1000));
      expect((await context.cookies(origin)).some((c) => c.name === '__Host-tw_at')).toBe(false);

      const again = await context.newPage();
      const refreshes: number[] = [];
      again.on('response', (r) => {
        if (r.url().endsWith('/auth/refresh')) refreshes.push(r.status());
      });
      await again.goto(`${origin}/dashboard`);
      await again.waitForURL(`${origin}/dashboard`, { timeout: 15_000 });
      await expect.poll(() => again.getByTestId('dashboard-user').textContent()).toBe(email);
      expect(refreshes).toEqual([200]);
    } finally {
      await context.close();
    }
  });
});
