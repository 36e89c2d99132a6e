/**
 * Tokenward in a Fastify 5 app. Run: `npx tsx examples/fastify.ts`, then
 * `POST /auth/signup` and `GET /api/profile` on http://localhost:3000.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Tokenward } from 'tokenward';
import { tokenwardFastify } from 'tokenward/fastify';
import { isMain, NoteBook, profileOf, startTokenward } from './shared.js';

export async function createFastifyApp(tw: Tokenward): Promise<FastifyInstance> {
  const notes = new NoteBook();
  const app = Fastify();
  await app.register(tokenwardFastify, { tokenward: tw });

  app.get('/api/ping', async () => ({ ok: true }));
  app.get('/api/ping/protected', { preHandler: app.requireSession() }, async () => ({ ok: true }));
  app.get('/api/profile', { preHandler: app.requireSession() }, async (request) => ({
    user: await profileOf(tw, request.session?.userId ?? ''),
  }));
  app.get('/api/notes', { preHandler: app.requireSession() }, async (request) => ({
    notes: notes.list(request.session?.userId ?? ''),
  }));
  app.post('/api/notes', { preHandler: app.requireSession() }, async (request, reply) => {
    const note = notes.add(request.session?.userId ?? '', (request.body as { text?: unknown } | undefined)?.text);
    if (note === null) return reply.code(400).send({ error: 'text must be 1 to 2000 characters' });
    return reply.code(201).send({ note });
  });
  app.post('/api/transfer', { preHandler: [app.requireSession(), app.requireStepUp()] }, async () => ({ ok: true }));
  return app;
}

if (isMain(import.meta.url)) {
  const { tw, port } = await startTokenward();
  const app = await createFastifyApp(tw);
  await app.listen({ port });
  console.log(`fastify example listening on http://localhost:${port}`);
}
