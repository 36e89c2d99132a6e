import type { Context, MiddlewareHandler } from 'hono';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from '../../server/context.js';
import { readCookie } from '../../server/cookies.js';
import { enforceCsrf } from '../../server/middleware/csrf.js';
import { authenticateRequest } from '../../server/middleware/session.js';
import { consumeStepUpGrant, openStepUpGrant, releaseStepUpGrant } from './step-up-grant.js';

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
 * A step-up grant held for one guarded request: kept (consumed) when the request succeeds, given
 * back when it fails, so a request that fails (a 400, a 500, a refused precondition) never costs
 * the user their step-up (API.md: "consumed by the first guarded request that succeeds").
 */
export interface StepUpClaim {
  /** Settles the claim with the guarded request's outcome: a 2xx keeps the grant consumed, anything else releases it. */
  settle(succeeded: boolean): Promise<void>;
  /** The deletion of the grant cookie, for a response that consumed it. */
  readonly clearCookie: string;
}

/**
 * Claims the request's step-up grant (the `tw_su` cookie) for this session, atomically, or
 * throws 401 `step_up_required` with the RFC 9470 challenge. Of two concurrent requests with one
 * grant, exactly one holds the claim; the caller settles it with the request's outcome.
 */
export async function claimStepUp(
  ctx: ServerContext,
  c: Context<TokenwardEnv>,
  info: SessionInfo,
  maxAgeSec: number,
): Promise<StepUpClaim> {
  const value = readCookie(c.req.header('cookie'), ctx.cookies.name('su'));
  const grant = value === null ? null : await openStepUpGrant(ctx.security.grantKey, value);
  const verdict = await consumeStepUpGrant(ctx.limiter, grant, {
    sessionId: info.sessionId,
    now: ctx.clock.now(),
    maxAgeSec,
  });
  if (verdict !== 'ok' || grant === null) throw stepUpRequired(maxAgeSec);
  let settled = false;
  return {
    clearCookie: ctx.cookies.clear('su'),
    settle: async (succeeded) => {
      if (settled) return;
      settled = true;
      if (!succeeded) await releaseStepUpGrant(ctx.limiter, grant);
    },
  };
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
  const claim = await claimStepUp(ctx, c, info, maxAgeSec);
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
    const claim = await claimStepUp(ctx, c, info, maxAgeSec);
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
