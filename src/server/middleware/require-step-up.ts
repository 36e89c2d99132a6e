import type { Context, MiddlewareHandler } from 'hono';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, SessionInfo, StepUpClaim, StepUpGuard, TokenwardEnv } from '../context.js';

export type { StepUpClaim };

import { signedIn } from './signed-in.js';

export interface RequireStepUpOptions {
  /**
   * Seconds since the step-up authentication after which it no longer counts (RFC 9470
   * `max_age`). Default: the step-up grant lifetime (`stepUpTtl`, 5 minutes).
   */
  maxAge?: number;
}

/** A 2xx: the only answer that consumes a step-up grant. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function appendSetCookie(response: Response, cookie: string): void {
  try {
    response.headers.append('Set-Cookie', cookie);
  } catch {
    // Immutable headers (a proxied Response): the grant is consumed server-side anyway.
  }
}

function guardOf(ctx: ServerContext): StepUpGuard {
  if (ctx.stepUp === null) throw new TokenwardError('internal_error', { detail: 'Step-up is not available.' });
  return ctx.stepUp;
}

/**
 * Runs `action` holding the request's step-up grant: its response consumes the grant (and clears
 * the cookie) when it is a 2xx; a thrown error or any other status gives the grant back.
 */
export async function withStepUp(
  ctx: ServerContext,
  c: Context<TokenwardEnv>,
  info: SessionInfo,
  maxAgeSec: number,
  action: () => Promise<Response>,
): Promise<Response> {
  const claim = await guardOf(ctx).claim(c, info, maxAgeSec);
  let response: Response;
  try {
    response = await action();
  } catch (error) {
    await claim.settle(false);
    throw error;
  }
  const succeeded = isSuccess(response.status);
  await claim.settle(succeeded);
  if (succeeded) appendSetCookie(response, claim.clearCookie);
  return response;
}

/** Context key under which a framework adapter finds the claim to settle once its route has answered. */
export const DEFERRED_STEP_UP = 'tokenwardStepUpClaim';

/**
 * Hono middleware guarding a sensitive route with step-up (API.md): a session (and the CSRF rule),
 * then a valid, unused step-up grant bound to that session, no older than `maxAge`. The grant is
 * consumed by the request only when the route answers 2xx (the cookie is then cleared); a failing
 * request leaves it usable. Without a grant: 401 `step_up_required` with
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
    const claim = await guardOf(ctx).claim(c, info, maxAgeSec);
    const vars = c as unknown as { get(key: string): unknown; set(key: string, value: unknown): void };
    if (vars.get(DEFERRED_STEP_UP) === null) {
      // A framework adapter runs the route after this guard: it settles the claim with the route's status.
      vars.set(DEFERRED_STEP_UP, claim);
      await next();
      return;
    }
    try {
      await next();
    } catch (error) {
      await claim.settle(false);
      throw error;
    }
    // An error thrown by the route was turned into c.res by the app's error handler (c.error is set).
    const succeeded = c.error === undefined && isSuccess(c.res.status);
    await claim.settle(succeeded);
    if (succeeded) appendSetCookie(c.res, claim.clearCookie);
  };
}
