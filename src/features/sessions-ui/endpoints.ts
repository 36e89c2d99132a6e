import type { Context } from 'hono';
import type { CryptoKey } from 'jose';
import { TokenwardError } from '../../errors.js';
import type { Session } from '../../kernel/ports.js';
import { describeUserAgent } from '../../kernel/sessions/device.js';
import { isSessionLive } from '../../kernel/sessions/is-session-live.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { discardBody, iso, problemResponse, readJsonObject, stringField } from '../../server/http.js';
import { optionalSession } from '../../server/middleware/signed-in.js';
import { clearingHeaders, clearSessionCookies } from '../../server/session-cookies.js';
import { verifyNotMeToken } from './not-me-link.js';

/** Session ids are UUIDs; anything else is "not found" without a store lookup. */
const SESSION_ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The JSON view of a session in the sessions list (API.md). */
export function listedSessionJson(session: Session, currentId: string): Record<string, unknown> {
  const device = describeUserAgent(session.userAgent);
  return {
    id: session.id,
    current: session.id === currentId,
    device: { browser: device.browser, os: device.os, label: device.label },
    ip: session.ip,
    createdAt: iso(session.createdAt),
    lastActiveAt: iso(session.lastActiveAt),
    newDevice: session.newDevice,
  };
}

/** CSP of the tiny "this wasn't me" page: no script, a form posting to itself only. */
const NOT_ME_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function notMePage(title: string, body: string, status: number): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem}</style></head><body><h1>${title}</h1>${body}</body></html>`;
  return new Response(html, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': NOT_ME_CSP,
      'Cache-Control': 'no-store',
    },
  });
}

function wantsHtml(c: Context): boolean {
  const accept = c.req.header('accept') ?? '';
  return accept.includes('text/html');
}

/** Longer strings are no link token (ours are < 100 characters): refused before any MAC work. */
const MAX_NOT_ME_TOKEN = 256;

/**
 * The token of a "this wasn't me" confirmation: `{token}` in a JSON body (API.md, for an app's
 * own page or client), else the `?token=` of the link (the confirmation page's form posts back
 * to the URL it was opened with, with an empty form body). A JSON body without a string token is
 * 400 `invalid_request`.
 */
async function notMeToken(c: Context<TokenwardEnv>): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    return stringField(await readJsonObject(c), 'token', { max: 4096 }) as string;
  }
  await discardBody(c);
  return c.req.query('token') ?? '';
}

/**
 * `GET /auth/sessions`, `DELETE /auth/sessions/:id`, `POST /auth/sessions/revoke-others`,
 * `GET /auth/sessions/not-me?token=…` (the confirmation page), `POST /auth/sessions/not-me` with
 * `{token}` (JSON) or `?token=…` (the page's form).
 */
export function sessionsUiEndpoints(ctx: ServerContext, notMeKey: CryptoKey): AnyEndpoint[] {
  const list = defineEndpoint(
    { method: 'GET', path: '/sessions', guard: 'session', body: 'none' },
    async ({ c, session }) => {
      const sessions = await ctx.store.listActiveSessions(session.userId, ctx.clock.now());
      return c.json({ sessions: sessions.map((s) => listedSessionJson(s, session.sessionId)) });
    },
  );

  const revokeOthers = defineEndpoint(
    { method: 'POST', path: '/sessions/revoke-others', guard: 'session', body: 'none' },
    async ({ c, rc, session }) => {
      const revoked = await ctx.kernel.revokeUserSessions(session.userId, 'revoke_others', rc, session.sessionId);
      return c.json({ revoked: revoked.length });
    },
  );

  // GET shows a confirmation page (mail scanners prefetch links: a GET must change nothing);
  // POST revokes. The token is the credential: no cookie is needed (the link is opened anywhere).
  const notMePreview = defineEndpoint(
    { method: 'GET', path: '/sessions/not-me', guard: 'none', body: 'none' },
    async ({ c }) => {
      const token = c.req.query('token') ?? '';
      const sessionId =
        token.length <= MAX_NOT_ME_TOKEN ? await verifyNotMeToken(notMeKey, token, ctx.clock.now()) : null;
      const session = sessionId === null ? null : await ctx.store.getSession(sessionId);
      if (!isSessionLive(session, ctx.clock.now())) {
        if (!wantsHtml(c)) return problemResponse('invalid_link');
        return notMePage(
          'Link expired',
          '<p>This link is invalid, expired or was already used. If you still see activity you do not recognise, change your password.</p>',
          400,
        );
      }
      if (!wantsHtml(c))
        return c.json({
          session: {
            id: session.id,
            createdAt: iso(session.createdAt),
            ip: session.ip,
            device: describeUserAgent(session.userAgent),
          },
        });
      const device = describeUserAgent(session.userAgent).label.replace(/[<>&"']/g, '');
      const ip = session.ip.replace(/[<>&"']/g, '');
      return notMePage(
        'Was this you?',
        `<p>A sign-in from <strong>${device}</strong> (${ip}) at ${iso(session.createdAt)}.</p><form method="post"><button type="submit">This wasn't me — sign it out</button></form>`,
        200,
      );
    },
  );

  const notMe = defineEndpoint(
    { method: 'POST', path: '/sessions/not-me', guard: 'none', body: 'raw' },
    async ({ c, rc }) => {
      const token = await notMeToken(c);
      const now = ctx.clock.now();
      const sessionId = token.length <= MAX_NOT_ME_TOKEN ? await verifyNotMeToken(notMeKey, token, now) : null;
      // Single use: the first claim wins, and a revoked session cannot be revoked again.
      const claimed =
        sessionId !== null && (await ctx.limiter.claimOnce(`notme:${sessionId}`, ctx.config.refreshAbsoluteSec));
      const revoked = claimed && sessionId !== null ? await ctx.kernel.revokeSession(sessionId, 'not_me', rc) : null;
      if (revoked === null) {
        if (!wantsHtml(c)) return problemResponse('invalid_link');
        return notMePage('Link expired', '<p>This link is invalid, expired or was already used.</p>', 400);
      }
      await ctx.kernel.recordEvent({
        type: 'session.reported_not_me',
        userId: revoked.userId,
        ip: rc.ip,
        sessionId: revoked.id,
        userAgent: rc.userAgent,
      });
      const response = wantsHtml(c)
        ? notMePage(
            'Signed out',
            '<p>That session has been signed out. If you did not sign in, change your password now.</p>',
            200,
          )
        : c.json({ revoked: 1 });
      if ((await optionalSession(ctx, c))?.sessionId === revoked.id) {
        for (const [name, value] of clearingHeaders(ctx)) response.headers.append(name, value);
      }
      return response;
    },
  );

  const revokeOne = defineEndpoint(
    { method: 'DELETE', path: '/sessions/:id', guard: 'session', body: 'none' },
    async ({ c, rc, session: info }) => {
      const id = c.req.param('id') ?? '';
      // Another user's session answers exactly like an unknown one: no oracle.
      const session = SESSION_ID_SHAPE.test(id) ? await ctx.store.getSession(id) : null;
      if (!isSessionLive(session, ctx.clock.now()) || session.userId !== info.userId)
        throw new TokenwardError('not_found');
      await ctx.kernel.revokeSession(session.id, 'revoked_by_user', rc);
      if (session.id === info.sessionId) clearSessionCookies(ctx, c);
      return c.body(null, 204);
    },
  );

  // Specific paths before `/sessions/:id`.
  return [list, revokeOthers, notMePreview, notMe, revokeOne];
}
