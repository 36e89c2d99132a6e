/**
 * Tokenward in a Hono app of your own (here on Node with @hono/node-server). Run:
 * `npx tsx examples/hono.ts`, then `POST /auth/signup` and `GET /api/profile` on http://localhost:3000.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Tokenward } from 'tokenward';
import { tokenwardHono } from 'tokenward/hono';
import { isMain, NoteBook, profileOf, startTokenward } from './shared.js';

export function createHonoApp(tw: Tokenward): Hono {
  const auth = tokenwardHono(tw);
  const notes = new NoteBook();
  const app = new Hono();
  app.use(auth.routes());

  app.get('/api/ping', (c) => c.json({ ok: true }));
  app.get('/api/ping/protected', auth.requireSession(), (c) => c.json({ ok: true }));
  app.get('/api/profile', auth.requireSession(), async (c) =>
    c.json({ user: await profileOf(tw, c.get('tokenward').userId) }),
  );
  app.get('/api/notes', auth.requireSession(), (c) => c.json({ notes: notes.list(c.get('tokenward').userId) }));
  app.post('/api/notes', auth.requireSession(), async (c) => {
    const body = (await c.req.json().catch(() => null)) as { text?: unknown } | null;
    const note = notes.add(c.get('tokenward').userId, body?.text);
    return note === null ? c.json({ error: 'text must be 1 to 2000 characters' }, 400) : c.json({ note }, 201);
  });
  app.post('/api/transfer', auth.requireSession(), auth.requireStepUp(), (c) => c.json({ ok: true }));
  return app;
}

if (isMain(import.meta.url)) {
  const { tw, port } = await startTokenward();
  serve({ fetch: createHonoApp(tw).fetch, port }, () =>
    console.log(`hono example listening on http://localhost:${port}`),
  );
}
