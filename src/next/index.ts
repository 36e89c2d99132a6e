/**
 * `tokenward/next`: Tokenward in a Next.js App Router app (Node.js runtime). One catch-all route
 * handler mounts `/auth/*` (and the JWKS), `getSession()` / `requireSession()` read the session
 * in server components, server actions and route handlers, and `withSession()` guards a route
 * handler (with the CSRF rule for state-changing requests). For the edge middleware see
 * `tokenward/next/middleware`.
 *
 * @example
 * ```ts
 * // lib/auth.ts
 * import { createTokenward } from 'tokenward';
 * import { createNextAuth } from 'tokenward/next';
 * export const auth = createNextAuth(() => createTokenward({}, { env: process.env }));
 *
 * // app/auth/[...path]/route.ts
 * export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = auth.handlers;
 *
 * // app/dashboard/page.tsx (a server component)
 * export default async function Dashboard() {
 *   const session = await auth.requireSession(); // signed out: redirect to /login
 *   return <p>Signed in as {session.userId}</p>;
 * }
 * ```
 * @packageDocumentation
 */
import { Context } from 'hono';
import { headers as requestHeaders } from 'next/headers.js';
import { redirect } from 'next/navigation.js';
import { type Guard, GuardFactory, type GuardInput, type RequireSessionOptions, type RequireStepUpOptions } from '../adapters/guard.js';
import type { SessionInfo } from '../server/context.js';
import type { Tokenward } from '../server/create-tokenward.js';
import { presentedAccessToken } from '../server/middleware/session.js';

export type { RequireSessionOptions, RequireStepUpOptions, SessionInfo };

/**
 * The Tokenward instance a Next app uses: the instance, a promise of it, or a function creating it
 * (called once, at the first request, so `next build` never opens the store).
 */
export type TokenwardSource = Tokenward | Promise<Tokenward> | (() => Tokenward | Promise<Tokenward>);

/** A Next route handler: a Web `Request` in, a `Response` out. */
export type NextRouteHandler = (request: Request) => Promise<Response>;

/** The route handlers of `app/auth/[...path]/route.ts` (and `app/.well-known/jwks.json/route.ts`). */
export interface NextRouteHandlers {
  GET: NextRouteHandler;
  HEAD: NextRouteHandler;
  POST: NextRouteHandler;
  PUT: NextRouteHandler;
  PATCH: NextRouteHandler;
  DELETE: NextRouteHandler;
  OPTIONS: NextRouteHandler;
}

/** Options of {@link createNextAuth}. */
export interface NextAuthOptions {
  /** Where `requireSession()` sends a signed-out visitor. Default `/login`. */
  loginPath?: string;
  /**
   * The client address for per-IP limits and session lists. Next.js gives route handlers no
   * socket address; `next start` fills `X-Forwarded-For` with it only when the request carries
   * none. Default: the right-most `X-Forwarded-For` entry (see docs/next.md on proxies).
   */
  clientIp?: (request: Request) => string | undefined;
}

/** A route handler that runs after the guard, with the session. */
export type GuardedRouteHandler<C = unknown> = (request: Request, session: SessionInfo, context: C) => Response | Promise<Response>;

/** What {@link createNextAuth} returns. */
export interface NextAuth {
  /** Route handlers answering Tokenward's paths; export them from `app/auth/[...path]/route.ts`. */
  handlers: NextRouteHandlers;
  /**
   * The session of the current request (server components, server actions, route handlers), or
   * `null`. Verification only: no cookie is set, nothing is written, no refresh happens.
   */
  getSession(): Promise<SessionInfo | null>;
  /** Like {@link NextAuth.getSession}, but redirects a signed-out visitor to the login page (`?returnTo=`). */
  requireSession(options?: { returnTo?: string }): Promise<SessionInfo>;
  /**
   * Guards a route handler exactly like `tw.requireSession()`: a valid session, and the CSRF rule
   * for state-changing requests authenticated by cookie; otherwise Tokenward's 401/403 problem+json.
   */
  withSession<C = unknown>(handler: GuardedRouteHandler<C>, options?: RequireSessionOptions): (request: Request, context: C) => Promise<Response>;
  /**
   * Guards a sensitive route handler with a session and a fresh, single-use step-up grant
   * (RFC 9470 challenge otherwise). The grant is consumed only when the handler answers 2xx.
   */
  withStepUp<C = unknown>(handler: GuardedRouteHandler<C>, options?: RequireStepUpOptions): (request: Request, context: C) => Promise<Response>;
  /** The Tokenward instance (created on first use). */
  instance(): Promise<Tokenward>;
}

function lastForwardedFor(request: Request): string | undefined {
  const list = request.headers.get('x-forwarded-for');
  const last = list?.split(',').at(-1)?.trim();
  return last ? last.slice(0, 64) : undefined;
}

function memo(source: TokenwardSource): () => Promise<Tokenward> {
  let instance: Promise<Tokenward> | undefined;
  return () => {
    instance ??= Promise.resolve(typeof source === 'function' ? source() : source);
    return instance;
  };
}

/**
 * Tokenward for a Next.js App Router app: route handlers for `/auth/*`, session reading for
 * server components, guards for route handlers.
 *
 * @example
 * ```ts
 * // app/api/notes/route.ts
 * import { auth } from '@/lib/auth';
 * export const POST = auth.withSession(async (request, session) => {
 *   const { text } = await request.json();
 *   return Response.json({ saved: text, by: session.userId }, { status: 201 });
 * });
 * ```
 */
export function createNextAuth(source: TokenwardSource, options: NextAuthOptions = {}): NextAuth {
  const instance = memo(source);
  const loginPath = options.loginPath ?? '/login';
  if (!loginPath.startsWith('/') || loginPath.startsWith('//')) throw new TypeError(`tokenward/next: loginPath must be a path on this site such as "/login" (got ${JSON.stringify(loginPath)})`);
  const clientIp = options.clientIp ?? lastForwardedFor;
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
      // The grant is spent: clear its cookie (copying the response when its headers are immutable).
      const answered = new Response(response.body, response);
      answered.headers.append('Set-Cookie', claim.clearCookie);
      return answered;
    };

  const getSession = async (): Promise<SessionInfo | null> => {
    const tw = await instance();
    const incoming = await requestHeaders();
    const headers = new Headers();
    for (const name of ['cookie', 'authorization']) {
      const value = incoming.get(name);
      if (value !== null) headers.set(name, value);
    }
    const presented = presentedAccessToken(tw.context, new Context(new Request(`${tw.config.publicOrigin}/`, { headers })));
    if (presented === null || presented.token === '') return null;
    const claims = await tw.context.service.authenticate(presented.token);
    // A DPoP-bound token needs a proof checked per request: not something a page render has.
    if (claims === null || claims.cnf !== undefined || presented.via === 'dpop') return null;
    return { userId: claims.sub, sessionId: claims.sid, claims, via: presented.via };
  };

  return {
    handlers: { GET: serve, HEAD: serve, POST: serve, PUT: serve, PATCH: serve, DELETE: serve, OPTIONS: serve },
    getSession,
    async requireSession(opts = {}) {
      const session = await getSession();
      if (session !== null) return session;
      // Only a path on this site: never an open redirect through returnTo.
      const returnTo = /^\/(?![/\\])/.test(opts.returnTo ?? '') ? opts.returnTo : undefined;
      return redirect(returnTo === undefined ? loginPath : `${loginPath}?returnTo=${encodeURIComponent(returnTo)}`);
    },
    withSession: (handler, opts) => guarded((f) => f.session(opts), handler),
    withStepUp: (handler, opts) => guarded((f) => f.stepUp(opts), handler),
    instance,
  };
}

/**
 * The route handlers alone: `export const { GET, POST, … } = createNextHandler(tw)` in
 * `app/auth/[...path]/route.ts`. Same as `createNextAuth(tw).handlers`.
 *
 * @example
 * ```ts
 * // app/auth/[...path]/route.ts
 * import { createNextHandler } from 'tokenward/next';
 * import { tokenward } from '@/lib/tokenward';
 * export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = createNextHandler(tokenward);
 * ```
 */
export function createNextHandler(source: TokenwardSource, options: Pick<NextAuthOptions, 'clientIp'> = {}): NextRouteHandlers {
  return createNextAuth(source, options).handlers;
}
