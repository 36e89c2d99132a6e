/**
 * Tokenward on a plain `node:http` server, no framework. Run: `npx tsx examples/node.ts`, then
 * `POST /auth/signup` and `GET /api/profile` on http://localhost:3000.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Tokenward } from 'tokenward';
import { tokenwardNode } from 'tokenward/node';
import { isMain, NoteBook, profileOf, startTokenward } from './shared.js';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 16_384) return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function createNodeListener(tw: Tokenward): RequestListener {
  const auth = tokenwardNode(tw);
  const requireSession = auth.requireSession();
  const requireStepUp = auth.requireStepUp();
  const notes = new NoteBook();

  return auth.listener(async (req, res) => {
    const route = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
    switch (route) {
      case 'GET /api/ping':
        return sendJson(res, 200, { ok: true });
      case 'GET /api/ping/protected': {
        if (!(await requireSession(req, res))) return; // the 401 is already written
        return sendJson(res, 200, { ok: true });
      }
      case 'GET /api/profile': {
        const session = await requireSession(req, res);
        if (!session) return;
        return sendJson(res, 200, { user: await profileOf(tw, session.userId) });
      }
      case 'GET /api/notes': {
        const session = await requireSession(req, res);
        if (!session) return;
        return sendJson(res, 200, { notes: notes.list(session.userId) });
      }
      case 'POST /api/notes': {
        const session = await requireSession(req, res);
        if (!session) return;
        const note = notes.add(session.userId, ((await readJson(req)) as { text?: unknown } | null)?.text);
        return note === null
          ? sendJson(res, 400, { error: 'text must be 1 to 2000 characters' })
          : sendJson(res, 201, { note });
      }
      case 'POST /api/transfer': {
        if (!(await requireSession(req, res))) return;
        if (!(await requireStepUp(req, res))) return;
        return sendJson(res, 200, { ok: true });
      }
      default:
        return sendJson(res, 404, { error: 'not found' });
    }
  });
}

if (isMain(import.meta.url)) {
  const { tw, port } = await startTokenward();
  createServer(createNodeListener(tw)).listen(port, () =>
    console.log(`node example listening on http://localhost:${port}`),
  );
}
