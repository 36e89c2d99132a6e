import type { Context } from 'hono';
import type { LoginOutcome } from '../kernel/login/finish-login.js';
import type { RequestContext } from '../kernel/request-context.js';
import type { ServerContext, TokenwardEnv } from './context.js';
import { setPendingLoginCookie } from './pending-login-cookie.js';
import { sessionJson, setSessionCookies, userJson } from './session-cookies.js';

/**
 * A session answer's body: what the features add (`ctx.sessionAnswerMembers`, e.g. `browser`),
 * then the answer's own members, which always win.
 *
 * @example
 * ```ts
 * return c.json(sessionAnswer(ctx, c, { user: userJson(user), session: sessionJson(session, exp) }));
 * ```
 */
export function sessionAnswer<T extends object>(ctx: ServerContext, c: Context, body: T): T {
  if (ctx.sessionAnswerMembers.length === 0) return body;
  const extra: Record<string, unknown> = {};
  for (const members of ctx.sessionAnswerMembers) Object.assign(extra, members(c as Context<TokenwardEnv>));
  return { ...extra, ...body };
}

/**
 * The browser answer to a login: `{user, session}` with the session cookies, or — when a second
 * factor is due — `{mfaRequired: true, methods}` with the sealed pending-login cookie and no
 * session cookies (API.md `POST /auth/login`).
 */
export async function loginResponse(
  ctx: ServerContext,
  c: Context,
  outcome: LoginOutcome,
  rc: RequestContext,
  status: 200 | 201 = 200,
): Promise<Response> {
  if (outcome.kind === 'second_factor') {
    await setPendingLoginCookie(ctx, c, outcome.user.id, outcome.amr);
    return c.json(sessionAnswer(ctx, c, { mfaRequired: true }), 200);
  }
  const { issued } = outcome;
  setSessionCookies(ctx, c, issued, rc.deviceId);
  return c.json(
    sessionAnswer(ctx, c, {
      user: userJson(issued.user),
      session: sessionJson(issued.session, issued.accessExpiresAt, ctx.kernel.restrictionOf(issued.session)),
    }),
    status,
  );
}
