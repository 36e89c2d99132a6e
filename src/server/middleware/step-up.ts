import type { Context, MiddlewareHandler } from 'hono';
import { consumeStepUpGrant, openStepUpGrant } from '../../core/step-up.js';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from '../context.js';
import { readCookie } from '../cookies.js';
import { enforceCsrf } from './csrf.js';
import { authenticateRequest } from './session.js';

export interface RequireStepUpOptions {
  /**
   * Seconds since the step-up authentication after which it no longer counts (RFC 9470
   * `max_age`). Default: the step-up grant lifetime (`stepUpTtl`, 5 minutes).
   */
  maxAge?: number;
}

/** The RFC 9470 challenge of API.md ("Protected routes"). */
function stepUpRequired(maxAgeSec: number): TokenwardError {
  return new TokenwardError('step_up_required', {
    headers: {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="A fresh step-up authentication is required", max_age=${maxAgeSec}`,
    },
  });
}

/**
 * The session of a request to an auth endpoint: a valid access token, and the CSRF rule for
 * state-changing requests authenticated by cookie.
 */
export async function signedIn(ctx: ServerContext, c: Context<TokenwardEnv>): Promise<SessionInfo> {
  const existing = c.get('tokenward') as SessionInfo | undefined;
  if (existing) return existing;
  const info = await authenticateRequest(ctx, c);
  await enforceCsrf(ctx, c, { bindings: () => [info.sessionId] });
  c.set('tokenward', info);
  return info;
}

/**
 * Consumes the request's step-up grant (the `tw_su` cookie) for this session, atomically, or
 * throws 401 `step_up_required` with the RFC 9470 challenge. Of two requests with one grant,
 * exactly one passes.
 */
export async function consumeStepUp(ctx: ServerContext, c: Context<TokenwardEnv>, info: SessionInfo, maxAgeSec: number): Promise<void> {
  const value = readCookie(c.req.header('cookie'), ctx.cookies.name('su'));
  const grant = value === null ? null : await openStepUpGrant(ctx.security.grantKey, value);
  const verdict = await consumeStepUpGrant(ctx.limiter, grant, { sessionId: info.sessionId, now: ctx.clock.now(), maxAgeSec });
  if (verdict !== 'ok') throw stepUpRequired(maxAgeSec);
}

/** Appends the deletion of the (consumed) step-up cookie to a response. */
export function clearStepUpCookie(ctx: ServerContext, response: Response): void {
  try {
    response.headers.append('Set-Cookie', ctx.cookies.clear('su'));
  } catch {
    // Immutable headers (a proxied Response): the grant is consumed server-side anyway.
  }
}

/**
 * Hono middleware guarding a sensitive route with step-up (API.md): a session (and the CSRF rule),
 * then a valid, unused step-up grant bound to that session, no older than `maxAge`. The grant is
 * consumed by the request that passes; otherwise 401 `step_up_required` with
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", …, max_age=<seconds>`.
 *
 * @example
 * ```ts
 * app.post('/api/transfer', tw.requireSession(), tw.requireStepUp({ maxAge: 300 }), (c) => c.json({ ok: true }));
 * ```
 */
export function requireStepUp(ctx: ServerContext, options: RequireStepUpOptions = {}): MiddlewareHandler<TokenwardEnv> {
  const maxAgeSec = Math.max(1, Math.floor(options.maxAge ?? ctx.config.stepUpTtlSec));
  return async (c, next) => {
    const info = await signedIn(ctx, c);
    await consumeStepUp(ctx, c, info, maxAgeSec);
    await next();
    clearStepUpCookie(ctx, c.res);
  };
}
