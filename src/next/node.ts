/**
 * `tokenward/next/node`: the Node.js side of `tokenward/next`. `tokenward/next` loads it with a
 * plain `import()` that Next.js leaves alone (not bundled), so Tokenward (SQLite or PostgreSQL,
 * argon2 workers, its data files) runs as the installed package, one instance per process shared
 * by route handlers, server components and server actions. In a Next.js app import
 * `tokenward/next`; this entry is for tests and code outside a bundler.
 *
 * @example
 * ```ts
 * import { nextRuntime } from 'tokenward/next/node';
 * const runtime = nextRuntime({ dependencies: { env: process.env } });
 * const me = await runtime.handlers.GET(new Request('http://localhost:3000/auth/me'));
 * ```
 * @packageDocumentation
 */
import { Context } from 'hono';
import {
  type Guard,
  GuardFactory,
  type GuardInput,
  type RequireSessionOptions,
  type RequireStepUpOptions,
} from '../adapters/guard.js';
import type { TokenwardOptions } from '../config.js';
import { createTokenward, type Tokenward, type TokenwardDependencies } from '../create-tokenward.js';
import type { SessionInfo } from '../server/context.js';
import { presentedAccessToken } from '../server/middleware/session.js';

export type { RequireSessionOptions, RequireStepUpOptions, SessionInfo };

/** How `tokenward/next` creates its Tokenward instance (at the first request, never at build time). */
export interface NextTokenwardConfig {
  /** Options of `createTokenward`. */
  options?: TokenwardOptions;
  /** Dependencies of `createTokenward`; `{ env: process.env }` reads TOKENWARD_* (the library does not by default). */
  dependencies?: TokenwardDependencies;
  /**
   * The client address for per-IP limits and session lists. Next.js gives route handlers no
   * socket address; `next start` puts it in `X-Forwarded-For` only when the request has none.
   * Default: the right-most `X-Forwarded-For` entry (see docs/next.md about proxies).
   */
  clientIp?: (request: Request) => string | undefined;
  /**
   * Instances are kept per process under this name (default `default`): Next.js evaluates your
   * `lib/auth.ts` once per bundle layer, and dev reloads evaluate it again; all of them share one.
   */
  instanceKey?: string;
}

/** A Next route handler: a Web `Request` in, a `Response` out. */
export type NextRouteHandler = (request: Request) => Promise<Response>;

/** Route handlers for `app/auth/[...path]/route.ts` (and `app/.well-known/jwks.json/route.ts`). */
export interface NextRouteHandlers {
  GET: NextRouteHandler;
  HEAD: NextRouteHandler;
  POST: NextRouteHandler;
  PUT: NextRouteHandler;
  PATCH: NextRouteHandler;
  DELETE: NextRouteHandler;
  OPTIONS: NextRouteHandler;
}

/** A route handler that runs once the guard passed, with the session. */
export type GuardedRouteHandler<C = unknown> = (
  request: Request,
  session: SessionInfo,
  context: C,
) => Response | Promise<Response>;

/** What {@link nextRuntime} returns. */
export interface NextRuntime {
  handlers: NextRouteHandlers;
  /** The session carried by these request headers (cookie or `Authorization: Bearer`), or null. Reads only. */
  sessionFromHeaders(headers: Headers): Promise<SessionInfo | null>;
  withSession<C = unknown>(
    handler: GuardedRouteHandler<C>,
    options?: RequireSessionOptions,
  ): (request: Request, context: C) => Promise<Response>;
  withStepUp<C = unknown>(
    handler: GuardedRouteHandler<C>,
    options?: RequireStepUpOptions,
  ): (request: Request, context: C) => Promise<Response>;
  /** The Tokenward instance (created on first use). */
  instance(): Promise<Tokenward>;
}

const INSTANCES = Symbol.for('tokenward.next.instances');
type Registry = Map<string, Promise<Tokenward>>;

function registry(): Registry {
  const g = globalThis as { [INSTANCES]?: Registry };
  g[INSTANCES] ??= new Map();
  return g[INSTANCES];
}

function lastForwardedFor(request: Request): string | undefined {
  const last = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
  return last ? last.slice(0, 64) : undefined;
}

/**
 * The Node.js runtime of `tokenward/next`: one Tokenward instance per process and name,
 * Tokenward's routes as Next route handlers, session reading and route-handler guards.
 *
 * @example
 * ```ts
 * const runtime = nextRuntime({ options: { publicOrigin: 'https://app.example.com' } });
 * export const { GET, POST } = runtime.handlers;
 * ```
 */
export function nextRuntime(config: NextTokenwardConfig = {}): NextRuntime {
  const key = config.instanceKey ?? 'default';
  const clientIp = config.clientIp ?? lastForwardedFor;
  const instance = (): Promise<Tokenward> => {
    const instances = registry();
    let tw = instances.get(key);
    if (tw === undefined) {
      tw = createTokenward(config.options ?? {}, config.dependencies ?? {});
      // A failed start (bad configuration) is reported on every request until it is fixed, not cached forever.
      tw.catch(() => instances.delete(key));
      instances.set(key, tw);
    }
    return tw;
  };
  let guards: GuardFactory | undefined;

  const serve: NextRouteHandler = async (request) => {
    const tw = await instance();
    const ip = clientIp(request);
    return tw.fetch(request, ip === undefined ? {} : { ip });
  };

  const input = (request: Request): GuardInput => {
    const ip = clientIp(request);
    return {
      method: request.method,
      url: request.url,
      raw: request,
      header: (name) => request.headers.get(name) ?? undefined,
      request: () => request,
      env: ip === undefined ? {} : { ip },
    };
  };

  const guarded =
    <C>(pick: (factory: GuardFactory) => Guard, handler: GuardedRouteHandler<C>) =>
    async (request: Request, context: C): Promise<Response> => {
      const tw = await instance();
      guards ??= new GuardFactory(tw);
      const outcome = await pick(guards)(input(request));
      if (!outcome.ok) return outcome.response;
      const claim = outcome.stepUp;
      let response: Response;
      try {
        response = await handler(request, outcome.session, context);
      } catch (error) {
        await claim?.settle(false);
        throw error;
      }
      if (claim === null) return response;
      const succeeded = response.status >= 200 && response.status < 300;
      await claim.settle(succeeded);
      if (!succeeded) return response;
      // The grant is spent: clear its cookie (on a copy: a Response's headers may be immutable).
      const answered = new Response(response.body, response);
      answered.headers.append('Set-Cookie', claim.clearCookie);
      return answered;
    };

  return {
    handlers: { GET: serve, HEAD: serve, POST: serve, PUT: serve, PATCH: serve, DELETE: serve, OPTIONS: serve },
    async sessionFromHeaders(incoming) {
      const tw = await instance();
      const headers = new Headers();
      for (const name of ['cookie', 'authorization']) {
        const value = incoming.get(name);
        if (value !== null) headers.set(name, value);
      }
      const presented = presentedAccessToken(
        tw.context,
        new Context(new Request(`${tw.config.publicOrigin}/`, { headers })),
      );
      if (presented === null || presented.token === '' || presented.via === 'dpop') return null;
      const claims = await tw.context.kernel.authenticate(presented.token);
      // A DPoP-bound token needs a proof checked per request: not something a page render has.
      if (claims === null || claims.cnf !== undefined) return null;
      return { userId: claims.sub, sessionId: claims.sid, claims, via: presented.via };
    },
    withSession: (handler, options) => guarded((f) => f.session(options), handler),
    withStepUp: (handler, options) => guarded((f) => f.stepUp(options), handler),
    instance,
  };
}
