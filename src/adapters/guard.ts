import { Context, Hono, type MiddlewareHandler } from 'hono';
import type { Tokenward } from '../create-tokenward.js';
import { isStateChanging } from '../kernel/csrf.js';
import type { SessionInfo, TokenwardEnv } from '../server/context.js';
import { DEFERRED_STEP_UP, type RequireStepUpOptions, type StepUpClaim } from '../server/middleware/require-step-up.js';
import { securityHeaders } from '../server/middleware/security-headers.js';
import {
  type AuthRequest,
  authenticate,
  authenticateCached,
  type RequireSessionOptions,
} from '../server/middleware/session.js';

/**
 * What a guard decided: the session (and, for step-up, the grant claim the adapter settles with
 * the route's status once it has answered), or Tokenward's refusal.
 */
export type GuardOutcome =
  | { ok: true; session: SessionInfo; stepUp: StepUpClaim | null }
  | { ok: false; response: Response };

/**
 * A request as a guard sees it: method, headers and URL read straight from the framework's
 * request, and the Web `Request` built only when a guard needs one (the general path, refusals).
 */
export interface GuardInput extends AuthRequest {
  /** The header-only Web request of this request (built once, on first call). */
  request(): Request;
  readonly env: TokenwardEnv['Bindings'];
}

/** Runs Tokenward's own middleware on a request. */
export type Guard = (input: GuardInput) => Promise<GuardOutcome>;

export type { RequireSessionOptions, RequireStepUpOptions };

/** Renders a refusal exactly as `tw.app` would: Tokenward's security headers and error handler. */
type Refuse = (request: Request, env: TokenwardEnv['Bindings'], error: unknown) => Promise<Response>;

function refusalRenderer(tw: Tokenward): Refuse {
  const refusals = new WeakMap<Request, unknown>();
  const refusalApp = new Hono<TokenwardEnv>();
  refusalApp.use('*', securityHeaders(tw.config));
  refusalApp.onError((error) => tw.errorResponse(error));
  refusalApp.all('*', (c) => {
    throw refusals.get(c.req.raw);
  });
  return async (request, env, error) => {
    refusals.set(request, error);
    return refusalApp.fetch(request, env);
  };
}

/**
 * Builds a guard from Tokenward middleware (`tw.requireSession()`, `tw.requireStepUp()`): the
 * very same Hono middleware runs, on a Hono `Context` of the request, so the decision is
 * Tokenward's own. A refusal is rendered by a tiny Hono app with Tokenward's security headers and
 * error handler, so it is byte-for-byte what `tw.app` would answer. Adapters add no behaviour.
 *
 * A step-up guard hands back its grant claim: the route runs in the framework after the guard, so
 * the adapter settles the claim with the route's status (a 2xx consumes the grant and clears its
 * cookie, anything else gives it back).
 */
export function createGuard(
  tw: Tokenward,
  middleware: ReadonlyArray<MiddlewareHandler<TokenwardEnv>>,
  options: { refuse?: Refuse } = {},
): Guard {
  const refuse = options.refuse ?? refusalRenderer(tw);

  return async (input) => {
    const request = input.request();
    const c = new Context<TokenwardEnv>(request, { env: input.env });
    const vars = c as unknown as { get(key: string): unknown; set(key: string, value: unknown): void };
    // Tells requireStepUp that the route runs outside this context: hand the claim over instead of settling it.
    vars.set(DEFERRED_STEP_UP, null);
    let passed = false;
    const dispatch = async (i: number): Promise<void> => {
      const m = middleware[i];
      if (m === undefined) {
        passed = true;
        return;
      }
      const result = await m(c, () => dispatch(i + 1));
      // Tokenward's middleware refuses by throwing; a returned Response is a refusal too.
      if (result instanceof Response) c.res = result;
    };
    try {
      await dispatch(0);
    } catch (error) {
      return { ok: false, response: await refuse(request, input.env, error) };
    }
    const session = c.get('tokenward') as SessionInfo | undefined;
    const stepUp = (vars.get(DEFERRED_STEP_UP) as StepUpClaim | null | undefined) ?? null;
    if (!passed || session === undefined) {
      await stepUp?.settle(false);
      return { ok: false, response: c.res };
    }
    return { ok: true, session, stepUp };
  };
}

/**
 * The `requireSession()` guard. Safe methods (GET, HEAD, OPTIONS), which the CSRF rule does not
 * cover, are authenticated straight on the adapter's request view: the same
 * {@link authenticate} the middleware runs (token, signature cache, revoked-session check,
 * DPoP), with no Web `Request` or Hono `Context` built per call. State-changing methods take the
 * general path, so the CSRF rule runs in Tokenward's own middleware.
 */
function createSessionGuard(tw: Tokenward, options: RequireSessionOptions): Guard {
  const refuse = refusalRenderer(tw);
  const general = createGuard(tw, [tw.requireSession(options)], { refuse });
  const ctx = tw.context;
  const full: Guard = async (input) => {
    try {
      return { ok: true, session: await authenticate(ctx, input), stepUp: null };
    } catch (error) {
      return { ok: false, response: await refuse(input.request(), input.env, error) };
    }
  };
  return (input) => {
    if (isStateChanging(input.method)) return general(input);
    // A token this node already verified, session not revoked, not DPoP-bound: decided at once.
    const session = authenticateCached(ctx, input);
    return session === undefined ? full(input) : Promise.resolve({ ok: true, session, stepUp: null });
  };
}

/** Guards of one adapter, cached per options so a route definition builds its guard once. */
export class GuardFactory {
  readonly #tw: Tokenward;
  readonly #cache = new Map<string, Guard>();

  constructor(tw: Tokenward) {
    this.#tw = tw;
  }

  /** A valid session (and the CSRF rule for state-changing cookie requests). */
  session(options: RequireSessionOptions = {}): Guard {
    const key = `session:${JSON.stringify(options)}`;
    let guard = this.#cache.get(key);
    if (guard === undefined) {
      guard = createSessionGuard(this.#tw, options);
      this.#cache.set(key, guard);
    }
    return guard;
  }

  /**
   * A session plus a valid, unused step-up grant (RFC 9470 challenge otherwise). The outcome's
   * `stepUp` claim must be settled with the route's status (see {@link settleStepUpOnResponse}).
   */
  stepUp(options: RequireStepUpOptions = {}): Guard {
    return this.#cached(`step-up:${JSON.stringify(options)}`, () => [this.#tw.requireStepUp(options)]);
  }

  #cached(key: string, build: () => Array<MiddlewareHandler<TokenwardEnv>>): Guard {
    let guard = this.#cache.get(key);
    if (guard === undefined) {
      guard = createGuard(this.#tw, build());
      this.#cache.set(key, guard);
    }
    return guard;
  }
}

/**
 * Whether a path belongs to Tokenward: everything under the base path (`/auth`), and every
 * endpoint the enabled features mounted outside it (the JWKS, `/healthz` and `/metrics` unless
 * disabled, …) — computed from `tw.endpoints`, never a hand-kept list. Other paths stay the app's.
 */
export function tokenwardPaths(tw: Tokenward, options: { operations?: boolean } = {}): (pathname: string) => boolean {
  const base = tw.config.basePath;
  const prefix = `${base}/`;
  const operations = new Set(['/healthz', '/metrics']);
  const exact = new Set([base]);
  for (const endpoint of tw.endpoints) {
    if (endpoint.path.startsWith(prefix)) continue;
    if (options.operations === false && operations.has(endpoint.path)) continue;
    exact.add(endpoint.path);
  }
  return (pathname) => pathname.startsWith(prefix) || exact.has(pathname);
}
