import type { Context } from 'hono';
import { isTokenwardError } from '../../errors.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from '../context.js';
import { readCookie } from '../cookies.js';
import { enforceCsrf } from './csrf.js';
import { type AuthenticateOptions, authenticateRequest, restrictedSessionError } from './session.js';

/**
 * The session of a request to an auth endpoint: a valid access token, and the CSRF rule for
 * state-changing requests authenticated by cookie (API.md "CSRF rule"). A restricted session
 * only where `allowRestricted` (the endpoints that serve the restriction).
 */
export async function signedIn(
  ctx: ServerContext,
  c: Context<TokenwardEnv>,
  options: AuthenticateOptions = {},
): Promise<SessionInfo> {
  const existing = c.get('tokenward') as SessionInfo | undefined;
  if (existing) {
    const restriction = existing.claims.tw_restriction;
    if (restriction !== undefined && !options.allowRestricted) throw restrictedSessionError(restriction);
    return existing;
  }
  const info = await authenticateRequest(ctx, c, options);
  await enforceCsrf(ctx, c, { bindings: () => [info.sessionId] });
  c.set('tokenward', info);
  return info;
}

/**
 * The access token's session if valid, else null (never throws for a bad or missing token). A
 * restricted session counts: logout and the CSRF bindings must work for it too.
 */
export async function optionalSession(ctx: ServerContext, c: Context): Promise<SessionInfo | null> {
  try {
    return await authenticateRequest(ctx, c, { allowRestricted: true });
  } catch (error) {
    if (isTokenwardError(error)) return null;
    throw error;
  }
}

/** The refresh cookie of a request (browser transport), or null. */
export function refreshCookie(ctx: ServerContext, c: Context): string | null {
  return readCookie(c.req.header('cookie'), ctx.cookies.name('rt'));
}

/**
 * The sessions a double-submit token may be bound to on requests authenticated by the refresh
 * cookie (refresh, logout): the refresh token's session and the access token's, resolved lazily
 * (only old browsers without Fetch Metadata and Origin get this far).
 */
export function refreshBindings(ctx: ServerContext, c: Context) {
  return async (): Promise<Array<string | null>> => {
    const session = await ctx.kernel.sessionForRefreshToken(refreshCookie(ctx, c));
    const fromAccess = await optionalSession(ctx, c);
    return [session?.id ?? null, fromAccess?.sessionId ?? null].filter((v, i, a) => v !== null && a.indexOf(v) === i);
  };
}
