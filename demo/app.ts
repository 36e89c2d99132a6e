import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import type { Tokenward } from '../src/create-tokenward.js';
import { TokenwardError } from '../src/errors.js';
import { randomId } from '../src/kernel/crypto/encoding.js';
import { readJsonObject, stringField } from '../src/server/http.js';
import { userJson } from '../src/server/session-cookies.js';

/** CSP of the demo's pages: no inline script, nothing from elsewhere, not frameable. */
export const DEMO_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Note {
  id: string;
  text: string;
  createdAt: string;
}

/** Adds the demo application (pages + `/api/*`) to a Tokenward instance. */
export function mountDemo(tw: Tokenward, options: { assets?: Record<string, string> } = {}): void {
  const notes = new Map<string, Note[]>();
  const { app } = tw;
  const assets = new Map<string, { body: Buffer | string; type: string }>();
  for (const [path, type] of Object.entries(STATIC_TYPES).flatMap(([ext, t]) =>
    listPublic(ext).map((p) => [p, t] as const),
  )) {
    assets.set(path, { body: readFileSync(`${PUBLIC_DIR}${path.slice(1)}`), type });
  }
  for (const [path, body] of Object.entries(options.assets ?? {}))
    assets.set(path, { body, type: 'text/javascript; charset=utf-8' });

  const page = (c: Context) => {
    const index = assets.get('/index.html');
    if (!index) return c.text('demo/public/index.html is missing', 500);
    c.header('Content-Security-Policy', DEMO_CSP);
    c.header('Cache-Control', 'no-store');
    return c.body(typeof index.body === 'string' ? index.body : new Uint8Array(index.body), 200, {
      'Content-Type': index.type,
    });
  };
  app.get('/', page);
  for (const route of [
    '/login',
    '/signup',
    '/profile',
    '/notes',
    '/sessions',
    '/security',
    '/transfer',
    '/lab',
    '/forgot-password',
    // The pages email links open (API.md "Mail"): opening one changes nothing; the page POSTs the token.
    '/account/verify-email',
    '/account/reset-password',
    '/account/magic-link',
    '/account/confirm-email-change',
    '/account/not-me',
  ])
    app.get(route, page);
  mountOutbox(tw, page);
  // What the demo's pages offer depends on the configuration (magic links are opt-in).
  app.get('/api/demo/features', (c) =>
    c.json({
      magicLink: tw.endpoints.some((e) => e.path === `${tw.config.basePath}/magic-link`),
      outbox: outboxAvailable(tw),
    }),
  );
  for (const [path, asset] of assets) {
    if (path === '/index.html') continue;
    app.get(path, (c) => {
      c.header('Content-Security-Policy', DEMO_CSP);
      c.header('Cache-Control', 'no-cache');
      return c.body(typeof asset.body === 'string' ? asset.body : new Uint8Array(asset.body), 200, {
        'Content-Type': asset.type,
      });
    });
  }

  // Two tiny routes with the same body, one bare and one behind the middleware (the benchmark compares them).
  app.get('/api/ping', (c) => c.json({ ok: true }));
  app.get('/api/ping/protected', tw.requireSession(), (c) => c.json({ ok: true }));
  app.get('/api/profile', tw.requireSession(), async (c) => {
    const user = await tw.context.store.findUserById(c.get('tokenward').userId);
    if (!user) throw new TokenwardError('invalid_token');
    return c.json({ user: userJson(user) });
  });
  app.get('/api/notes', tw.requireSession(), (c) => c.json({ notes: notes.get(c.get('tokenward').userId) ?? [] }));
  app.post('/api/notes', tw.requireSession(), async (c) => {
    const body = await readJsonObject(c);
    const text = stringField(body, 'text', { max: 2000, min: 1 }) as string;
    const note: Note = { id: randomId(), text, createdAt: new Date().toISOString() };
    const list = notes.get(c.get('tokenward').userId) ?? [];
    list.unshift(note);
    if (list.length > 100) list.length = 100;
    notes.set(c.get('tokenward').userId, list);
    return c.json({ note }, 201);
  });
  // Step-up: a fresh, single-use grant from POST /auth/step-up, consumed by this request.
  app.post('/api/transfer', tw.requireSession(), tw.requireStepUp(), async (c) => {
    const body = await readJsonObject(c);
    const amount = body.amount;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0 || amount > 1_000_000) {
      throw new TokenwardError('invalid_request', { detail: 'amount must be a positive number.' });
    }
    stringField(body, 'to', { max: 100, min: 1 });
    return c.json({ ok: true });
  });
  mountLab(tw);
  answerOtherMethods(tw);
}

/**
 * Without SMTP the mails stay in process; the demo shows them: `GET /outbox` answers them as JSON
 * (API.md), and opened in a browser it is the Outbox page. Never with NODE_ENV=production: the
 * list holds working links, so it is a development tool only.
 */
function outboxAvailable(tw: Tokenward): boolean {
  return process.env.NODE_ENV !== 'production' && tw.context.mailer?.outbox() != null;
}

function mountOutbox(tw: Tokenward, page: (c: Context) => Response | Promise<Response>): void {
  tw.app.get('/outbox', (c) => {
    if (!outboxAvailable(tw)) throw new TokenwardError('not_found');
    if ((c.req.header('accept') ?? '').includes('text/html')) return page(c);
    c.header('Cache-Control', 'no-store');
    return c.json({
      mails: (tw.context.mailer?.outbox() ?? []).map((m) => ({
        id: m.id,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        sentAt: new Date(m.sentAt).toISOString(),
      })),
    });
  });
}

/** A known demo path with the wrong method gets 405 + `Allow` (API.md), like Tokenward's own routes. */
function answerOtherMethods(tw: Tokenward): void {
  const allowed = new Map<string, Set<string>>();
  for (const route of tw.app.routes) {
    if (route.method === 'ALL' || route.path.includes('*') || route.path.startsWith(tw.config.basePath)) continue;
    const set = allowed.get(route.path) ?? new Set<string>();
    set.add(route.method);
    if (route.method === 'GET') set.add('HEAD');
    allowed.set(route.path, set);
  }
  for (const [path, methods] of allowed) {
    if (path === '/.well-known/jwks.json' || path === '/healthz' || path === '/metrics') continue;
    const allow = [...methods].join(', ');
    tw.app.all(path, () => {
      throw new TokenwardError('method_not_allowed', { headers: { Allow: allow } });
    });
  }
}

/**
 * Security lab helpers. A page cannot forge `Origin` or `Sec-Fetch-Site`, nor send a cross-site
 * request under this CSP, so the server replays the browser's own request with forged headers,
 * exactly as an attacker's page (or an old browser) would send it.
 */
function mountLab(tw: Tokenward): void {
  const { app } = tw;
  const stolen = new Map<string, { cookie: string; until: number }>();
  const replay = (
    c: Context,
    path: string,
    init: { method: string; cookie: string; headers?: Record<string, string>; body?: string },
  ) =>
    tw.fetch(
      new Request(new URL(path, tw.config.publicOrigin), {
        method: init.method,
        headers: {
          cookie: init.cookie,
          'user-agent': c.req.header('user-agent') ?? '',
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...init.headers,
        },
        ...(init.body ? { body: init.body } : {}),
      }),
      c.env,
    );
  const outcome = async (res: Response) => ({
    status: res.status,
    code: res.ok ? null : (((await res.json().catch(() => ({}))) as { code?: string }).code ?? null),
  });

  app.post('/api/lab/csrf-replay', tw.requireSession(), async (c) => {
    const cookie = c.req.header('cookie') ?? '';
    const body = JSON.stringify({ text: 'CSRF replay from the security lab: this note must not exist.' });
    const attacks: Record<string, Record<string, string>> = {
      crossSite: { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
      forgedOrigin: { origin: 'https://attacker.example' },
      forgedToken: { 'x-csrf-token': 'forged.csrf.token' },
    };
    const results: Record<string, { status: number; code: string | null }> = {};
    for (const [name, headers] of Object.entries(attacks)) {
      results[name] = await outcome(await replay(c, '/api/notes', { method: 'POST', cookie, headers, body }));
    }
    // Control: the same cookies do authenticate, so a refusal above is the CSRF rule at work.
    const control = await outcome(await replay(c, '/api/profile', { method: 'GET', cookie }));
    return c.json({ results, control });
  });

  // "Steal" the cookies of this request (as XSS or malware would) to replay them after logout.
  app.post('/api/lab/steal', tw.requireSession(), (c) => {
    const now = Date.now();
    for (const [key, entry] of stolen) if (entry.until < now) stolen.delete(key);
    if (stolen.size >= 1000) throw new TokenwardError('too_many_attempts');
    const id = randomId();
    stolen.set(id, { cookie: c.req.header('cookie') ?? '', until: now + 60_000 });
    return c.json({ id });
  });
  app.post('/api/lab/replay-stolen', async (c) => {
    const body = await readJsonObject(c);
    const id = stringField(body, 'id', { max: 100, min: 1 }) as string;
    const entry = stolen.get(id);
    stolen.delete(id);
    if (!entry || entry.until < Date.now()) throw new TokenwardError('not_found');
    const started = Date.now();
    let result = await outcome(await replay(c, '/api/profile', { method: 'GET', cookie: entry.cookie }));
    // Revocation reaches every node within 1 s (API.md); allow the same here before judging.
    while (result.status === 200 && Date.now() - started < 1500) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      result = await outcome(await replay(c, '/api/profile', { method: 'GET', cookie: entry.cookie }));
    }
    return c.json({ ...result, afterMs: Date.now() - started });
  });
}

function listPublic(ext: string): string[] {
  if (!existsSync(PUBLIC_DIR)) return [];
  return readdirSync(PUBLIC_DIR)
    .filter((f) => f.endsWith(ext))
    .map((f) => `/${f}`);
}
