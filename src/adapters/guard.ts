import { Hono, type MiddlewareHandler } from 'hono';
import type { SessionInfo, TokenwardEnv } from '../server/context.js';
import type { Tokenward } from '../server/create-tokenward.js';
import { securityHeaders } from '../server/middleware/security-headers.js';
import type { RequireSessionOptions } from '../server/middleware/session.js';
import type { RequireStepUpOptions } from '../server/middleware/step-up.js';

/** What a guard decided: the session (and headers it wants on the app's response), or Tokenward's refusal. */
export type GuardOutcome = { ok: true; session: SessionInfo; headers: Headers } | { ok: false; response: Response };

/** Runs Tokenward's own middleware on a (header-only) Web request. */
export type Guard = (request: Request, env: TokenwardEnv['Bindings']) => Promise<GuardOutcome>;

export type { RequireSessionOptions, RequireStepUpOptions };

/**
 * Headers the guard's response carries only because Tokenward's security-header middleware ran
 * on it: they describe Tokenward's own answers, so on a pass they are not forced onto the app's.
 */
const RESPONSE_ONLY_HEADERS = new Set([
  'content-type',
  'content-length',
  'x-content-type-options',
  'referrer-policy',
  'x-frame-options',
  'cross-origin-opener-policy',
  'content-security-policy',
  'strict-transport-security',
  'cache-control',
  'set-cookie',
]);

/**
 * Builds a guard from Tokenward middleware (`tw.requireSession()`, `tw.requireStepUp()`): the
 * very same Hono middleware runs, in a tiny Hono app with Tokenward's security headers and error
 * handler, so a refusal is byte-for-byte what `tw.app` would answer. Adapters add no behaviour.
 */
export function createGuard(tw: Tokenward, middleware: ReadonlyArray<MiddlewareHandler<TokenwardEnv>>): Guard {
  const app = new Hono<TokenwardEnv>();
  app.use('*', securityHeaders(tw.config));
  app.onError((error) => tw.errorResponse(error));
  for (const m of middleware) app.use('*', m);
  const passed = new WeakMap<Request, SessionInfo>();
  app.all('*', (c) => {
    passed.set(c.req.raw, c.get('tokenward'));
    return c.body(null, 204);
  });
  return async (request, env) => {
    const response = await app.fetch(request, env);
    const session = passed.get(request);
    if (session === undefined) return { ok: false, response };
    const headers = new Headers();
    for (const [name, value] of response.headers) if (!RESPONSE_ONLY_HEADERS.has(name)) headers.set(name, value);
    // e.g. the deletion of a consumed step-up cookie.
    for (const cookie of response.headers.getSetCookie()) headers.append('set-cookie', cookie);
    return { ok: true, session, headers };
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
    return this.#cached(`session:${JSON.stringify(options)}`, () => [this.#tw.requireSession(options)]);
  }

  /** A session plus a valid, unused step-up grant (RFC 9470 challenge otherwise). */
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
 * Whether a path belongs to Tokenward: everything under the base path (`/auth`), the JWKS, and
 * (unless disabled) `/healthz` and `/metrics`. Other paths stay the app's.
 */
export function tokenwardPaths(tw: Tokenward, options: { operations?: boolean } = {}): (pathname: string) => boolean {
  const base = tw.config.basePath;
  const exact = new Set([base, '/.well-known/jwks.json', ...(options.operations === false ? [] : ['/healthz', '/metrics'])]);
  const prefix = `${base}/`;
  return (pathname) => pathname.startsWith(prefix) || exact.has(pathname);
}
