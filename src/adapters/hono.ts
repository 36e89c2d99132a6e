/**
 * `tokenward/hono`: Tokenward in your own Hono app (any runtime). `tokenwardRoutes()` answers
 * Tokenward's paths; `requireSession()` / `requireStepUp()` are typed middleware that set
 * `c.get('tokenward')`. (Routes added to `tw.app` itself need none of this: use `tw.requireSession()`.)
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Tokenward } from '../create-tokenward.js';
import type { SessionInfo, TokenwardEnv } from '../server/context.js';
import { isSuccess } from '../server/middleware/require-step-up.js';
import { nodeHeaders } from '../server/middleware/session.js';
import {
  type Guard,
  GuardFactory,
  type GuardInput,
  type RequireSessionOptions,
  type RequireStepUpOptions,
  tokenwardPaths,
} from './guard.js';

export type { RequireSessionOptions, RequireStepUpOptions, SessionInfo };

/** Context variables the guards set: `c.get('tokenward')`. */
export interface TokenwardVariables {
  tokenward: SessionInfo;
}

/** Hono environment contributed by the guards. */
export interface TokenwardHonoEnv {
  Variables: TokenwardVariables;
}

export interface HonoAdapterOptions {
  /** Also answer `/healthz` and `/metrics` (default true). */
  operations?: boolean;
  /**
   * The client's socket address. Default: `@hono/node-server`'s `c.env.incoming.socket`, else
   * `c.env.ip`. On other runtimes pass e.g. `(c) => getConnInfo(c).remote.address ?? 'unknown'`.
   */
  clientIp?: (c: Context) => string;
}

type NodeServerEnv = { incoming?: { socket?: { remoteAddress?: string } }; ip?: string } | undefined;

function defaultClientIp(c: Context): string {
  const env = c.env as NodeServerEnv;
  return env?.ip ?? env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** A Hono request as guards see it (its own `Request` is the Web request). */
class HonoGuardInput implements GuardInput {
  readonly #c: Context;
  #headers: { header(name: string): string | undefined } | undefined;
  readonly env: TokenwardEnv['Bindings'];

  constructor(c: Context, env: TokenwardEnv['Bindings']) {
    this.#c = c;
    this.env = env;
  }

  get method(): string {
    return this.#c.req.method;
  }

  get url(): string {
    return this.#c.req.url;
  }

  get raw(): Request {
    return this.#c.req.raw;
  }

  header(name: string): string | undefined {
    // On @hono/node-server, the Node request's own headers while nobody has built the Web ones.
    this.#headers ??= nodeHeaders(this.#c) ?? this.#c.req;
    return this.#headers.header(name);
  }

  request(): Request {
    return this.#c.req.raw;
  }
}

export interface TokenwardHono {
  /** Middleware answering Tokenward's paths (`/auth/*`, JWKS, health, metrics); `next()` for the rest. */
  routes(): MiddlewareHandler;
  /** Guards a route with a session (and the CSRF rule for state-changing cookie requests); `c.get('tokenward')`. */
  requireSession(options?: RequireSessionOptions): MiddlewareHandler<TokenwardHonoEnv>;
  /** Guards a route with a session and a fresh, unused step-up grant (RFC 9470 challenge otherwise). */
  requireStepUp(options?: RequireStepUpOptions): MiddlewareHandler<TokenwardHonoEnv>;
}

/**
 * Mounts Tokenward on a Hono app of your own.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { tokenwardHono } from 'tokenward/hono';
 * const auth = tokenwardHono(tw);
 * const app = new Hono();
 * app.use(auth.routes());
 * app.get('/api/profile', auth.requireSession(), (c) => c.json({ userId: c.get('tokenward').userId }));
 * ```
 */
export function tokenwardHono(tw: Tokenward, options: HonoAdapterOptions = {}): TokenwardHono {
  const guards = new GuardFactory(tw);
  const isTokenwardPath = tokenwardPaths(tw, options);
  const clientIp = options.clientIp ?? defaultClientIp;
  const env = (c: Context): TokenwardEnv['Bindings'] => ({ ip: clientIp(c) });
  const guarded =
    (guard: Guard): MiddlewareHandler<TokenwardHonoEnv> =>
    async (c, next) => {
      // The same Request object: the guard reads headers only, the body stays for the route.
      const outcome = await guard(new HonoGuardInput(c, env(c)));
      if (!outcome.ok) return outcome.response;
      c.set('tokenward', outcome.session);
      if (outcome.stepUp === null) {
        await next();
        return;
      }
      // The route's answer settles the step-up claim: a 2xx consumes the grant, anything else gives it back.
      try {
        await next();
      } catch (error) {
        await outcome.stepUp.settle(false);
        throw error;
      }
      const succeeded = c.error === undefined && isSuccess(c.res.status);
      await outcome.stepUp.settle(succeeded);
      if (succeeded) c.res.headers.append('Set-Cookie', outcome.stepUp.clearCookie);
    };
  return {
    routes: () => async (c, next) => {
      if (!isTokenwardPath(c.req.path)) {
        await next();
        return;
      }
      return tw.fetch(c.req.raw, env(c));
    },
    requireSession: (opts) => guarded(guards.session(opts)),
    requireStepUp: (opts) => guarded(guards.stepUp(opts)),
  };
}
