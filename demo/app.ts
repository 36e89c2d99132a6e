import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { randomId } from '../src/core/encoding.js';
import { TokenwardError } from '../src/errors.js';
import type { Tokenward } from '../src/server/create-tokenward.js';
import { readJsonObject, stringField } from '../src/server/http.js';

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
  for (const [path, type] of Object.entries(STATIC_TYPES).flatMap(([ext, t]) => listPublic(ext).map((p) => [p, t] as const))) {
    assets.set(path, { body: readFileSync(`${PUBLIC_DIR}${path.slice(1)}`), type });
  }
  for (const [path, body] of Object.entries(options.assets ?? {})) assets.set(path, { body, type: 'text/javascript; charset=utf-8' });

  const page = (c: Context) => {
    const index = assets.get('/index.html');
    if (!index) return c.text('demo/public/index.html is missing', 500);
    c.header('Content-Security-Policy', DEMO_CSP);
    c.header('Cache-Control', 'no-store');
    return c.body(typeof index.body === 'string' ? index.body : new Uint8Array(index.body), 200, { 'Content-Type': index.type });
  };
  app.get('/', page);
  for (const route of ['/login', '/signup', '/profile', '/notes', '/sessions', '/security', '/transfer', '/lab']) app.get(route, page);
  for (const [path, asset] of assets) {
    if (path === '/index.html') continue;
    app.get(path, (c) => {
      c.header('Content-Security-Policy', DEMO_CSP);
      c.header('Cache-Control', 'no-cache');
      return c.body(typeof asset.body === 'string' ? asset.body : new Uint8Array(asset.body), 200, { 'Content-Type': asset.type });
    });
  }

  // Two tiny routes with the same body, one bare and one behind the middleware (the benchmark compares them).
  app.get('/api/ping', (c) => c.json({ ok: true }));
  app.get('/api/ping/protected', tw.requireSession(), (c) => c.json({ ok: true }));
  app.get('/api/profile', tw.requireSession(), async (c) => {
    const user = await tw.context.store.findUserById(c.get('tokenward').userId);
    if (!user) throw new TokenwardError('invalid_token');
    return c.json({ user: { id: user.id, email: user.email, name: user.name, createdAt: new Date(user.createdAt).toISOString() } });
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
}

function listPublic(ext: string): string[] {
  if (!existsSync(PUBLIC_DIR)) return [];
  return readdirSync(PUBLIC_DIR)
    .filter((f) => f.endsWith(ext))
    .map((f) => `/${f}`);
}
