import { Context, Hono, type MiddlewareHandler } from 'hono';
import { isStateChanging } from '../core/csrf.js';
import type { SessionInfo, TokenwardEnv } from '../server/context.js';
import type { Tokenward } from '../server/create-tokenward.js';
import { securityHeaders } from '../server/middleware/security-headers.js';
import { type AuthRequest, authenticate, authenticateCached, type RequireSessionOptions } from '../server/middleware/session.js';
import type { RequireStepUpOptions } from '../server/middleware/step-up.js';

/** What a guard decided: the session (and headers it wants on the app's response, if any), or Tokenward's refusal. */
export type GuardOutcome = { ok: true; session: SessionInfo; headers: Headers | null } | { ok: false; response: Response };

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
 * The pass path allocates no Response unless `collectHeaders` is set (guards that add headers
 * on success, e.g. step-up clearing its consumed grant cookie).
 */
export function createGuard(tw: Tokenward, middleware: ReadonlyArray<MiddlewareHandler<TokenwardEnv>>, options: { collectHeaders?: boolean; refuse?: Refuse } = {}): Guard {
  const refuse = options.refuse ?? refusalRenderer(tw);
  const collectHeaders = options.collectHeaders ?? false;

  return async (input) => {
    const request = input.request();
    const c = new Context<TokenwardEnv>(request, { env: input.env });
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
    if (!passed || session === undefined) return { ok: false, response: c.res };
    if (!collectHeaders) return { ok: true, session, headers: null };
    // e.g. the deletion of a consumed step-up cookie.
    const headers = new Headers();
    for (const cookie of c.res.headers.getSetCookie()) headers.append('set-cookie', cookie);
    return { ok: true, session, headers };
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
      return { ok: true, session: await authenticate(ctx, input), headers: null };
    } catch (error) {
      return { ok: false, response: await refuse(input.request(), input.env, error) };
    }
  };
  return (input) => {
    if (isStateChanging(input.method)) return general(input);
    // A token this node already verified, session not revoked, not DPoP-bound: decided at once.
    const session = authenticateCached(ctx, input);
    return session === undefined ? full(input) : Promise.resolve({ ok: true, session, headers: null });
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

  /** A session plus a valid, unused step-up grant (RFC 9470 challenge otherwise). */
  stepUp(options: RequireStepUpOptions = {}): Guard {
    return this.#cached(`step-up:${JSON.stringify(options)}`, () => [this.#tw.requireStepUp(options)], true);
  }

  #cached(key: string, build: () => Array<MiddlewareHandler<TokenwardEnv>>, collectHeaders = false): Guard {
    let guard = this.#cache.get(key);
    if (guard === undefined) {
      guard = createGuard(this.#tw, build(), { collectHeaders });
      this.#cache.set(key, guard);
    }
    return guard;
  }
}

/**
 * Whether a path belongs to Tokenward: everything under the base path (`/auth`), the JWKS, and
 * (unless disabled) `/healthz` and `/metrics`. Other paths stay the app's.
 */
export function tokenwardPaths(tw: Tokenward, options: { operations?: boolean } = {}): (pathname: string) => boolean {
  const base = tw.config.basePath;
  const exact = new Set([base, '/.well-known/jwks.json', ...(options.operations === false ? [] : ['/healthz', '/metrics'])]);
  const prefix = `${base}/`;
  return (pathname) => pathname.startsWith(prefix) || exact.has(pathname);
}
