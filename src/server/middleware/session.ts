import type { Context, MiddlewareHandler } from 'hono';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from '../context.js';
import { readCookie } from '../cookies.js';
import { enforceCsrf } from './csrf.js';

/** Longest Authorization/cookie token we look at; longer ones are rejected without parsing. */
const MAX_TOKEN_CHARS = 8192;

export interface PresentedToken {
  token: string;
  via: 'cookie' | 'bearer';
}

/** The access token of a request: `Authorization: Bearer`, else the cookie(s) (split mode stitched). */
export function presentedAccessToken(ctx: ServerContext, c: Context): PresentedToken | null {
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer +([^\s]+) *$/i.exec(authorization.slice(0, MAX_TOKEN_CHARS + 16));
    if (match?.[1]) return { token: match[1], via: 'bearer' };
    return { token: '', via: 'bearer' };
  }
  const cookieHeader = c.req.header('cookie');
  if (!cookieHeader) return null;
  ctx.metrics.observeCookieHeader(cookieHeader.length);
  if (ctx.config.cookies.split) {
    const hp = readCookie(cookieHeader, ctx.cookies.name('at_hp'));
    const sig = readCookie(cookieHeader, ctx.cookies.name('at_sig'));
    if (hp === null && sig === null) return null;
    return { token: `${hp ?? ''}.${sig ?? ''}`, via: 'cookie' };
  }
  const token = readCookie(cookieHeader, ctx.cookies.name('at'));
  return token === null ? null : { token, via: 'cookie' };
}

function realm(ctx: ServerContext): string {
  return `Bearer realm="${new URL(ctx.config.publicOrigin).host}"`;
}

/**
 * Authenticates a request. Throws 401 `unauthenticated` (no token) or `invalid_token`
 * (bad, expired or revoked) with the RFC 6750 `WWW-Authenticate` header.
 */
export async function authenticateRequest(ctx: ServerContext, c: Context): Promise<SessionInfo> {
  const presented = presentedAccessToken(ctx, c);
  if (presented === null) throw new TokenwardError('unauthenticated', { headers: { 'WWW-Authenticate': realm(ctx) } });
  const claims = presented.token.length > MAX_TOKEN_CHARS ? null : await ctx.service.authenticate(presented.token);
  if (claims === null) {
    ctx.metrics.rejectedTokens.inc();
    throw new TokenwardError('invalid_token', {
      headers: { 'WWW-Authenticate': `${realm(ctx)}, error="invalid_token", error_description="The access token is invalid, expired or revoked"` },
    });
  }
  // Throttled last_active_at (≤ 1 write per session per minute, fire-and-forget).
  ctx.security.activity.touch(claims.sid);
  return { userId: claims.sub, sessionId: claims.sid, claims, via: presented.via };
}

export interface RequireSessionOptions {
  /** Apply the CSRF rule to state-changing requests authenticated by cookie (default true). */
  csrf?: boolean;
}

/**
 * Hono middleware guarding an application route: a valid, unrevoked access token (cookie or
 * `Authorization: Bearer`), and the CSRF rule for state-changing cookie requests.
 * The session is available as `c.get('tokenward')`.
 *
 * @example
 * ```ts
 * app.get('/api/profile', tw.requireSession(), (c) => c.json({ userId: c.get('tokenward').userId }));
 * ```
 */
export function requireSession(ctx: ServerContext, options: RequireSessionOptions = {}): MiddlewareHandler<TokenwardEnv> {
  const csrf = options.csrf ?? true;
  return async (c, next) => {
    const info = await authenticateRequest(ctx, c);
    if (csrf) await enforceCsrf(ctx, c, { bindings: () => [info.sessionId] });
    c.set('tokenward', info);
    await next();
  };
}
