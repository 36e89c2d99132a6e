import { isTokenwardError, TokenwardError } from '../../errors.js';
import { ANONYMOUS_BINDING, createCsrfToken } from '../../kernel/csrf.js';
import type { ServerContext, SessionInfo } from '../../server/context.js';
import { readCookie } from '../../server/cookies.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { errorResponse } from '../../server/http.js';
import { sessionAnswer } from '../../server/login-response.js';
import { authenticateRequest } from '../../server/middleware/session.js';
import { optionalSession, refreshCookie } from '../../server/middleware/signed-in.js';
import {
  clearingHeaders,
  clearSessionCookies,
  sessionJson,
  setSessionCookies,
  userJson,
} from '../../server/session-cookies.js';

/** `POST /auth/refresh`, `POST /auth/logout`, `POST /auth/logout-all`, `GET /auth/me`. */
export function sessionEndpoints(ctx: ServerContext): AnyEndpoint[] {
  const refresh = defineEndpoint(
    { method: 'POST', path: '/refresh', guard: 'refresh-cookie', body: 'none' },
    async ({ c, rc }) => {
      try {
        const issued = await ctx.kernel.refresh(refreshCookie(ctx, c), rc);
        ctx.metrics.refreshes.inc({ outcome: 'ok' });
        setSessionCookies(ctx, c, issued, rc.deviceId, 'refresh');
        return c.json(
          { session: sessionJson(issued.session, issued.accessExpiresAt, ctx.kernel.restrictionOf(issued.session)) },
          200,
        );
      } catch (error) {
        if (!isTokenwardError(error)) throw error;
        ctx.metrics.refreshes.inc({ outcome: error.code });
        // A definite failure clears the cookies (a raced refresh never reaches here: it gets the successor).
        const response = errorResponse(error);
        if (
          error.code === 'refresh_reused' ||
          error.code === 'session_expired' ||
          error.code === 'refresh_invalid' ||
          error.code === 'account_disabled'
        ) {
          for (const [name, value] of clearingHeaders(ctx)) response.headers.append(name, value);
        }
        return response;
      }
    },
  );

  const logout = defineEndpoint(
    { method: 'POST', path: '/logout', guard: 'refresh-cookie', body: 'none' },
    async ({ c, rc }) => {
      const fromAccess = await optionalSession(ctx, c);
      const sessionId = fromAccess?.sessionId ?? (await ctx.kernel.sessionForRefreshToken(refreshCookie(ctx, c)))?.id;
      if (sessionId) await ctx.kernel.revokeSession(sessionId, 'logout', rc);
      clearSessionCookies(ctx, c);
      return c.body(null, 204);
    },
  );

  const logoutAll = defineEndpoint(
    { method: 'POST', path: '/logout-all', guard: 'refresh-cookie', body: 'none' },
    async ({ c, rc }) => {
      const fromAccess = await optionalSession(ctx, c);
      const userId = fromAccess?.userId ?? (await ctx.kernel.sessionForRefreshToken(refreshCookie(ctx, c)))?.userId;
      if (!userId) {
        throw new TokenwardError('unauthenticated', {
          headers: { 'WWW-Authenticate': `Bearer realm="${new URL(ctx.config.publicOrigin).host}"` },
        });
      }
      await ctx.kernel.revokeUserSessions(userId, 'logout_all', rc);
      clearSessionCookies(ctx, c);
      return c.body(null, 204);
    },
  );

  const me = defineEndpoint({ method: 'GET', path: '/me', guard: 'none', body: 'none' }, async ({ c }) => {
    let info: SessionInfo;
    try {
      // A restricted session (second-factor enrolment due) may ask who it is: clients read why here.
      info = await authenticateRequest(ctx, c, { allowRestricted: true });
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
    const described = await ctx.kernel.describe(info.claims);
    if (!described)
      throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    return c.json(
      sessionAnswer(ctx, c, {
        user: userJson(described.user),
        session: sessionJson(described.session, info.claims.exp * 1000, info.claims.tw_restriction),
      }),
    );
  });

  return [refresh, logout, logoutAll, me];
}
