/**
 * Cross-site attacks from a real attacker page (issue 4): a signed-in user visits
 * https://evil.test, which auto-submits forms to the app's state-changing routes, calls them with
 * `fetch(..., { credentials: 'include' })` (JSON and text/plain no-cors), loads protected routes
 * in <img> and <iframe>, and tries to frame the app. Nothing changes on the server, nothing
 * readable reaches the attacker, and the app is never rendered inside the attacker's page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppServer,
  type EvilServer,
  hasChromium,
  launchBrowser,
  makeCertificate,
  newContext,
  newEmail,
  openHarness,
  PASSWORD,
  requireChromium,
  type SeenRequest,
  sessionCookies,
  signupViaApi,
  startApp,
  startEvil,
  type Tls,
} from '../support/browser.js';

type Client = {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  login: (c: { email: string; password: string }) => Promise<unknown>;
  me: () => Promise<{ session: { id: string } } | null>;
  sessions: () => Promise<{ id: string }[]>;
};
type AttackResult = { error?: string; type?: string; status?: number; body?: string };
// Browser globals inside page.evaluate callbacks (module-local: the project has no DOM lib).
declare const window: { tw: { client: Client }; results: Record<string, AttackResult | true> };

const STATE_CHANGING = [
  '/api/notes',
  '/auth/logout',
  '/auth/logout-all',
  '/api/transfer',
  '/auth/sessions/revoke-others',
];
const TOP_LEVEL = ['/auth/refresh'];

/** The attacker's pages. `APP` is replaced with the app's origin. */
function attackPages(): Record<string, string> {
  const forms = `
<iframe name="t0"></iframe><iframe name="t1"></iframe><iframe name="t2"></iframe><iframe name="t3"></iframe><iframe name="t4"></iframe>
<form action="APP/api/notes" method="POST" enctype="text/plain" target="t0"><input name='{"text":"pwned-form","x":"' value='"}'></form>
<form action="APP/auth/logout" method="POST" target="t1"></form>
<form action="APP/auth/logout-all" method="POST" target="t2"></form>
<form action="APP/api/transfer" method="POST" enctype="text/plain" target="t3"><input name='{"amount":1000,"to":"mallory","x":"' value='"}'></form>
<form action="APP/auth/sessions/revoke-others" method="POST" target="t4"></form>
<img src="APP/api/notes"><img src="APP/api/profile"><img src="APP/auth/me">
<iframe id="frame-app" src="APP/"></iframe>
<iframe id="frame-notes" src="APP/api/notes"></iframe>
<script>
window.results = {};
for (const form of document.forms) form.submit();
(async () => {
  const r = window.results;
  const attempt = async (name, url, init) => {
    try {
      const res = await fetch(url, init);
      let body;
      try { body = await res.text(); } catch (e) { body = 'unreadable: ' + e; }
      r[name] = { type: res.type, status: res.status, body };
    } catch (e) {
      r[name] = { error: String(e) };
    }
  };
  const json = (body) => ({ method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const plain = (body) => ({ method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(body) });
  await Promise.all([
    attempt('json notes', 'APP/api/notes', json({ text: 'pwned-json' })),
    attempt('json transfer', 'APP/api/transfer', json({ amount: 1000, to: 'mallory' })),
    attempt('json logout', 'APP/auth/logout', json({})),
    attempt('text notes', 'APP/api/notes', plain({ text: 'pwned-text' })),
    attempt('text transfer', 'APP/api/transfer', plain({ amount: 1000, to: 'mallory' })),
    attempt('text logout', 'APP/auth/logout', plain({})),
    attempt('text logout-all', 'APP/auth/logout-all', plain({})),
    attempt('text revoke-others', 'APP/auth/sessions/revoke-others', plain({})),
    attempt('read notes', 'APP/api/notes', { credentials: 'include' }),
    attempt('read profile', 'APP/api/profile', { credentials: 'include' }),
    attempt('read me', 'APP/auth/me', { credentials: 'include' }),
    attempt('read sessions', 'APP/auth/sessions', { credentials: 'include' }),
    attempt('read notes no-cors', 'APP/api/notes', { credentials: 'include', mode: 'no-cors' }),
  ]);
  r.done = true;
})();
</script>`;
  const top = (action: string, body = '') =>
    `<form action="APP${action}" method="POST" enctype="text/plain">${body}</form><script>document.forms[0].submit()</script>`;
  return {
    '/forms': `<!doctype html><html><body>${forms}</body></html>`,
    '/top-notes': top('/api/notes', `<input name='{"text":"pwned-top","x":"' value='"}'>`),
    '/top-logout': top('/auth/logout'),
    '/top-logout-all': top('/auth/logout-all'),
    '/top-refresh': top('/auth/refresh'),
  };
}

let tls: Tls;
let app: AppServer;
let evil: EvilServer;
let browser: Browser;

// Without Chromium every test fails with the reason (beforeEach), rather than being skipped.
beforeEach(requireChromium);

beforeAll(async () => {
  if (!hasChromium()) return;
  tls = makeCertificate();
  [app, browser] = await Promise.all([startApp(tls, {}, { ui: false }), launchBrowser(tls)]);
  const pages = attackPages();
  for (const key of Object.keys(pages)) pages[key] = (pages[key] as string).replaceAll('APP', app.origin);
  evil = await startEvil(tls, pages);
});

afterAll(async () => {
  await browser?.close();
  await evil?.close();
  await app?.close();
});

describe('an attacker page visited by a signed-in user', { timeout: 60_000 }, () => {
  let context: BrowserContext;
  let home: Page;
  let email: string;
  let sessionId: string;

  beforeAll(async () => {
    if (!hasChromium()) return;
    context = await newContext(browser);
    email = newEmail('csrf');
    await signupViaApi(tls, app, email);
    home = await openHarness(context, app);
    const info = (await home.evaluate(({ email, password }) => window.tw.client.login({ email, password }), {
      email,
      password: PASSWORD,
    })) as {
      session: { id: string };
    };
    sessionId = info.session.id;
    const created = await home.evaluate(async () => {
      const res = await window.tw.client.fetch('/api/notes', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: 'my note' }),
      });
      return res.status;
    });
    expect(created).toBe(201);
  });

  afterAll(async () => {
    await context?.close();
  });

  /** What the server holds for the victim, read through the victim's own tab. */
  const victimState = () =>
    home.evaluate(async () => {
      const { client } = window.tw;
      const notes = (await (await client.fetch('/api/notes')).json()) as { notes: { text: string }[] };
      return {
        me: (await client.me())?.session.id ?? null,
        notes: notes.notes.map((n) => n.text),
        sessions: (await client.sessions()).length,
      };
    });

  const carriesSession = (r: SeenRequest) => r.cookies.some((c) => c.includes('tw_at') || c.includes('tw_rt'));

  /**
   * Runs every attack from `attacker` (an origin serving attackPages()) and checks that nothing
   * changed and nothing leaked. Returns the requests the attack made reach the app.
   */
  async function attack(attacker: string, site: 'cross-site' | 'same-site') {
    const before = await victimState();
    expect(before).toMatchObject({ me: sessionId, notes: ['my note'] });
    const from = app.requests.length;
    const fromAttacker = () => app.requests.slice(from).filter((r) => r.origin === attacker || r.secFetchSite === site);

    const page = await context.newPage();
    const console_: string[] = [];
    page.on('console', (m) => console_.push(m.text()));
    const framed: { url: string; xfo: string | undefined; csp: string | undefined }[] = [];
    page.on('response', (r) => {
      if (
        r.request().resourceType() === 'document' &&
        r.frame() !== page.mainFrame() &&
        r.url().startsWith(app.origin)
      ) {
        const h = r.headers();
        framed.push({ url: r.url(), xfo: h['x-frame-options'], csp: h['content-security-policy'] });
      }
    });
    await page.goto(`${attacker}/forms`);
    await page.waitForFunction('window.results && window.results.done === true');
    // The five form posts reached the app before we look at the outcome.
    const formPosts = () =>
      fromAttacker().filter((r) => r.method === 'POST' && r.origin === attacker && r.secFetchSite === site);
    await expect
      .poll(() => new Set(formPosts().map((r) => r.path)).size, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(STATE_CHANGING.length);

    const results = await page.evaluate(() => window.results);
    // Nothing readable: CORS failures or opaque responses with no status and no body.
    for (const [name, r] of Object.entries(results)) {
      if (r === true) continue; // `done`
      expect(r.error !== undefined || (r.type === 'opaque' && r.status === 0 && r.body === ''), name).toBe(true);
    }
    const leaked = JSON.stringify(results);
    for (const secret of [email, 'my note', sessionId, 'eyJ', 'twr_']) expect(leaked).not.toContain(secret);

    // Not framed: every app document loaded in a frame carried X-Frame-Options: DENY and
    // frame-ancestors 'none', and Chromium rendered none of them.
    expect(framed.length).toBeGreaterThanOrEqual(2);
    for (const f of framed) {
      expect(f.xfo?.toUpperCase()).toBe('DENY');
      expect(f.csp).toContain("frame-ancestors 'none'");
    }
    const childFrames = page.frames().filter((f) => f !== page.mainFrame());
    expect(childFrames.filter((f) => f.url().startsWith(app.origin)).map((f) => f.url())).toEqual([]);
    expect(console_.some((t) => t.includes(app.origin) && /frame-ancestors 'none'|Refused to display/.test(t))).toBe(
      true,
    );
    await page.close();

    // Classic top-level auto-submitting forms (the whole tab navigates to the app).
    const jarBefore = await sessionCookies(context, app);
    for (const [path, target] of [
      ['/top-notes', '/api/notes'],
      ['/top-logout', '/auth/logout'],
      ['/top-logout-all', '/auth/logout-all'],
      ['/top-refresh', '/auth/refresh'],
    ] as const) {
      const tab = await context.newPage();
      const arrived = app.requests.length;
      await tab.goto(`${attacker}${path}`, { waitUntil: 'commit' });
      await expect
        .poll(
          () => app.requests.slice(arrived).some((r) => r.method === 'POST' && r.path === target && r.status !== 0),
          { timeout: 10_000 },
        )
        .toBe(true);
      await tab.close();
    }
    // Not even a "logout CSRF": the browser still holds every session cookie, unchanged (no
    // clearing Set-Cookie in an answer, no rotated refresh token).
    expect(await sessionCookies(context, app)).toEqual(jarBefore);

    const seen = fromAttacker();
    const summary = seen.map(
      (r) => `${r.method} ${r.path} ${r.status}${carriesSession(r) ? ' (with session cookies)' : ''}`,
    );
    console.log(
      `[csrf] ${seen.length} ${site} requests reached the app; attacker read nothing (${Object.keys(results).length - 1} attempts): ${[...new Set(summary)].join(', ')}`,
    );
    const posts = seen.filter((r) => r.method === 'POST');
    expect(new Set(posts.map((r) => r.path))).toEqual(new Set([...STATE_CHANGING, ...TOP_LEVEL]));

    // And the victim's state is exactly as before: same session alive, notes and session list unchanged.
    expect(await victimState()).toEqual(before);
    return seen;
  }

  it('from evil.test (cross-site): forms, fetch, <img>/<iframe> and top-level posts change nothing, read nothing, cannot frame the app', async () => {
    const seen = await attack(evil.origin, 'cross-site');
    for (const r of seen) {
      const what = `${r.method} ${r.path} → ${r.status}`;
      // SameSite keeps the session cookies home; protected reads answer 401, writes 401/403.
      expect(carriesSession(r), what).toBe(false);
      if (r.method === 'POST') expect([401, 403], what).toContain(r.status);
      else if (r.method === 'GET' && r.path !== '/') expect(r.status, what).toBe(401);
    }
  });

  it('from evil.app.test (same-site sibling, cookies do go along): the CSRF rule refuses every write with 403', async () => {
    const seen = await attack(evil.siblingOrigin, 'same-site');
    const posts = seen.filter((r) => r.method === 'POST');
    // SameSite does not help here: the browser attached the session cookies...
    expect(posts.filter(carriesSession).map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/notes', '/auth/logout', '/auth/logout-all', '/api/transfer', '/auth/refresh']),
    );
    // ...and the server's CSRF rule (Sec-Fetch-Site: same-site, untrusted Origin) refused them all.
    for (const r of posts) expect(r.status, `${r.method} ${r.path}`).toBe(403);
  });
});
