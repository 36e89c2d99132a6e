import type { Context, Hono } from 'hono';
import { isTokenwardError, TokenwardError } from '../../errors.js';
import { ANONYMOUS_BINDING, createCsrfToken } from '../../kernel/csrf.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from '../../server/context.js';
import { readCookie } from '../../server/cookies.js';
import { defineRoute } from '../../server/define-route.js';
import { discardBody, errorResponse } from '../../server/http.js';
import { enforceCsrf } from '../../server/middleware/csrf.js';
import { authenticateRequest } from '../../server/middleware/session.js';
import { requestContext } from '../../server/request-context.js';
import {
  clearingHeaders,
  clearSessionCookies,
  sessionJson,
  setSessionCookies,
  userJson,
} from '../../server/session-cookies.js';

/** The access token's session if valid, else null (never throws for a bad token). */
async function optionalSession(ctx: ServerContext, c: Context): Promise<SessionInfo | null> {
  try {
    return await authenticateRequest(ctx, c);
  } catch (error) {
    if (isTokenwardError(error)) return null;
    throw error;
  }
}

/** `POST /auth/refresh`, `POST /auth/logout`, `POST /auth/logout-all`, `GET /auth/me`. */
export function sessionLifecycleRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  const base = ctx.config.basePath;
  const refreshCookie = (c: Context): string | null => readCookie(c.req.header('cookie'), ctx.cookies.name('rt'));
  /** Double-submit bindings for requests authenticated by the refresh cookie. */
  const refreshBindings = (c: Context) => async (): Promise<Array<string | null>> => {
    const session = await ctx.service.sessionForRefreshToken(refreshCookie(c));
    const fromAccess = await optionalSession(ctx, c);
    return [session?.id ?? null, fromAccess?.sessionId ?? null].filter((v, i, a) => v !== null && a.indexOf(v) === i);
  };

  defineRoute(app, `${base}/refresh`, {
    POST: async (c) => {
      await enforceCsrf(ctx, c, { setsCookies: true, bindings: refreshBindings(c) });
      await discardBody(c);
      const rc = requestContext(ctx, c);
      try {
        const issued = await ctx.service.refresh(refreshCookie(c), rc);
        ctx.metrics.refreshes.inc({ outcome: 'ok' });
        setSessionCookies(ctx, c, issued, rc.deviceId);
        return c.json({ session: sessionJson(issued.session, issued.accessExpiresAt) }, 200);
      } catch (error) {
        if (!isTokenwardError(error)) throw error;
        ctx.metrics.refreshes.inc({ outcome: error.code });
        // A definite failure clears the cookies (a raced refresh never reaches here: it gets the successor).
        const response = errorResponse(error);
        if (error.code === 'refresh_reused' || error.code === 'session_expired' || error.code === 'refresh_invalid') {
          for (const [name, value] of clearingHeaders(ctx)) response.headers.append(name, value);
        }
        return response;
      }
    },
  });

  defineRoute(app, `${base}/logout`, {
    POST: async (c) => {
      await enforceCsrf(ctx, c, { setsCookies: true, bindings: refreshBindings(c) });
      await discardBody(c);
      const rc = requestContext(ctx, c);
      const fromAccess = await optionalSession(ctx, c);
      const sessionId = fromAccess?.sessionId ?? (await ctx.service.sessionForRefreshToken(refreshCookie(c)))?.id;
      if (sessionId) await ctx.service.revokeSession(sessionId, 'logout', rc);
      clearSessionCookies(ctx, c);
      return c.body(null, 204);
    },
  });

  defineRoute(app, `${base}/logout-all`, {
    POST: async (c) => {
      await enforceCsrf(ctx, c, { setsCookies: true, bindings: refreshBindings(c) });
      await discardBody(c);
      const rc = requestContext(ctx, c);
      const fromAccess = await optionalSession(ctx, c);
      const userId = fromAccess?.userId ?? (await ctx.service.sessionForRefreshToken(refreshCookie(c)))?.userId;
      if (!userId) {
        throw new TokenwardError('unauthenticated', {
          headers: { 'WWW-Authenticate': `Bearer realm="${new URL(ctx.config.publicOrigin).host}"` },
        });
      }
      await ctx.service.revokeUserSessions(userId, 'logout_all', rc);
      clearSessionCookies(ctx, c);
      return c.body(null, 204);
    },
  });

  defineRoute(app, `${base}/me`, {
    GET: async (c) => {
      let info: SessionInfo;
      try {
        info = await authenticateRequest(ctx, c);
      } catch (error) {
        // Give anonymous visitors a CSRF token for login (old browsers without Fetch Metadata/Origin).
        if (isTokenwardError(error) && readCookie(c.req.header('cookie'), ctx.cookies.name('csrf')) === null) {
          const token = await createCsrfToken(ctx.csrfKey, ANONYMOUS_BINDING, ctx.clock.now() + 3600_000);
          const response = errorResponse(error);
          response.headers.append('Set-Cookie', ctx.cookies.serialize('csrf', token, 3600));
          return response;
        }
        throw error;
      }
      const described = await ctx.service.describe(info.claims);
      if (!described)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      return c.json({
        user: userJson(described.user),
        session: sessionJson(described.session, info.claims.exp * 1000),
      });
    },
  });
}
