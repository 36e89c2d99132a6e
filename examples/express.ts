/**
 * Tokenward in an Express 5 app. Run: `npx tsx examples/express.ts`, then open
 * http://localhost:3000 (sign up with `POST /auth/signup`, call `GET /api/profile`).
 */
import express, { type Express } from 'express';
import type { Tokenward } from 'tokenward';
import { tokenwardExpress } from 'tokenward/express';
import { isMain, NoteBook, profileOf, startTokenward } from './shared.js';

export function createExpressApp(tw: Tokenward): Express {
  const auth = tokenwardExpress(tw);
  const notes = new NoteBook();
  const app = express();
  app.disable('x-powered-by');
  app.use(auth.routes); // Tokenward's paths: before any body parser (Tokenward reads its own bodies)
  app.use(express.json());

  app.get('/api/ping', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/ping/protected', auth.requireSession(), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/profile', auth.requireSession(), async (req, res) => {
    res.json({ user: await profileOf(tw, req.tokenward?.userId ?? '') });
  });
  app.get('/api/notes', auth.requireSession(), (req, res) => {
    res.json({ notes: notes.list(req.tokenward?.userId ?? '') });
  });
  app.post('/api/notes', auth.requireSession(), (req, res) => {
    const note = notes.add(req.tokenward?.userId ?? '', (req.body as { text?: unknown } | undefined)?.text);
    if (note === null) res.status(400).json({ error: 'text must be 1 to 2000 characters' });
    else res.status(201).json({ note });
  });
  app.post('/api/transfer', auth.requireSession(), auth.requireStepUp(), (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

if (isMain(import.meta.url)) {
  const { tw, port } = await startTokenward();
  createExpressApp(tw).listen(port, () => console.log(`express example listening on http://localhost:${port}`));
}
