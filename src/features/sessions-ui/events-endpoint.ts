import { TokenwardError } from '../../errors.js';
import type { AuthEvent } from '../../kernel/ports.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { iso } from '../../server/http.js';
import { decodeEventCursor } from '../../store/event-cursor.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

/** The JSON view of an audit event (API.md). `data` stays server-side (it may hold device markers). */
export function eventJson(event: AuthEvent): Record<string, unknown> {
  return { type: event.type, at: iso(event.at), ip: event.ip, device: event.device, sessionId: event.sessionId };
}

/** `GET /auth/events?before=<cursor>&limit=<1..100>`: the user's own audit trail, newest first. */
export function eventsEndpoint(ctx: ServerContext): AnyEndpoint {
  return defineEndpoint({ method: 'GET', path: '/events', guard: 'session', body: 'none' }, async ({ c, session }) => {
    const limitText = c.req.query('limit');
    const before = c.req.query('before');
    let limit = DEFAULT_LIMIT;
    if (limitText !== undefined) {
      if (!/^\d{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
        throw new TokenwardError('invalid_request', { detail: `limit must be an integer from 1 to ${MAX_LIMIT}.` });
      }
      limit = Number(limitText);
    }
    // Cursors are opaque to clients; one the store did not produce is bad input (not an empty page).
    if (before !== undefined && decodeEventCursor(before) === null)
      throw new TokenwardError('invalid_request', { detail: 'before is not a valid cursor.' });
    const page = await ctx.store.listEvents(session.userId, { limit, before });
    return c.json({ events: page.events.map(eventJson), nextCursor: page.nextCursor });
  });
}
