import { Context, Hono, type MiddlewareHandler } from 'hono';
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
 * Builds a guard from Tokenward middleware (`tw.requireSession()`, `tw.requireStepUp()`): the
 * very same Hono middleware runs, on a Hono `Context` of the request, so the decision is
 * Tokenward's own. A refusal is rendered by a tiny Hono app with Tokenward's security headers and
 * error handler, so it is byte-for-byte what `tw.app` would answer. Adapters add no behaviour.
 *
 * The pass path allocates no Response unless `collectHeaders` is set (guards that add headers
 * on success, e.g. step-up clearing its consumed grant cookie).
 */
export function createGuard(tw: Tokenward, middleware: ReadonlyArray<MiddlewareHandler<TokenwardEnv>>, options: { collectHeaders?: boolean } = {}): Guard {
  const refusals = new WeakMap<Request, unknown>();
  const refusalApp = new Hono<TokenwardEnv>();
  refusalApp.use('*', securityHeaders(tw.config));
  refusalApp.onError((error) => tw.errorResponse(error));
  refusalApp.all('*', (c) => {
    throw refusals.get(c.req.raw);
  });
  const refuse = async (request: Request, env: TokenwardEnv['Bindings'], error: unknown): Promise<GuardOutcome> => {
    refusals.set(request, error);
    return { ok: false, response: await refusalApp.fetch(request, env) };
  };
  const collectHeaders = options.collectHeaders ?? false;

  return async (request, env) => {
    const c = new Context<TokenwardEnv>(request, { env });
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
      return refuse(request, env, error);
    }
    const session = c.get('tokenward') as SessionInfo | undefined;
    if (!passed || session === undefined) return { ok: false, response: c.res };
    const headers = new Headers();
    if (collectHeaders) {
      // e.g. the deletion of a consumed step-up cookie.
      for (const cookie of c.res.headers.getSetCookie()) headers.append('set-cookie', cookie);
    }
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
