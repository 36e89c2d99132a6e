/**
 * `tokenward/next`: Tokenward in a Next.js App Router app. One catch-all route handler mounts
 * `/auth/*` (and the JWKS); `getSession()` / `requireSession()` read the session in server
 * components, server actions and route handlers (verification only: nothing written, no refresh);
 * `withSession()` / `withStepUp()` guard route handlers with Tokenward's own rules (CSRF
 * included). The Tokenward instance itself is loaded outside Next's bundles
 * (`tokenward/next/node`), once per process. Edge middleware: `tokenward/next/middleware`.
 *
 * @example
 * ```ts
 * // lib/auth.ts
 * import { createNextAuth } from 'tokenward/next';
 * export const auth = createNextAuth({ dependencies: { env: process.env } });
 *
 * // app/auth/[...path]/route.ts
 * import { auth } from '@/lib/auth';
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
import { headers as requestHeaders } from 'next/headers';
import { redirect } from 'next/navigation';
import type { Tokenward } from '../create-tokenward.js';
import type {
  GuardedRouteHandler,
  NextRouteHandler,
  NextRouteHandlers,
  NextRuntime,
  NextTokenwardConfig,
  RequireSessionOptions,
  RequireStepUpOptions,
  SessionInfo,
} from './node.js';

export type {
  GuardedRouteHandler,
  NextRouteHandler,
  NextRouteHandlers,
  NextTokenwardConfig,
  RequireSessionOptions,
  RequireStepUpOptions,
  SessionInfo,
};

/** Options of {@link createNextAuth}: how to create Tokenward, and where the login page is. */
export interface NextAuthOptions extends NextTokenwardConfig {
  /** Where `requireSession()` sends a signed-out visitor. Default `/login`. */
  loginPath?: string;
}

/** What {@link createNextAuth} returns. */
export interface NextAuth {
  /** Route handlers answering Tokenward's paths: export them from `app/auth/[...path]/route.ts`. */
  handlers: NextRouteHandlers;
  /**
   * The session of the current request (server components, server actions, route handlers), or
   * `null`. Verification only: no cookie is set, nothing is written, no refresh happens.
   */
  getSession(): Promise<SessionInfo | null>;
  /** Like {@link NextAuth.getSession}, but redirects a signed-out visitor to the login page (`?returnTo=` when given). */
  requireSession(options?: { returnTo?: string }): Promise<SessionInfo>;
  /**
   * Guards a route handler like `tw.requireSession()`: a valid session, and the CSRF rule for
   * state-changing requests authenticated by cookie; otherwise Tokenward's 401/403 problem+json.
   */
  withSession<C = unknown>(
    handler: GuardedRouteHandler<C>,
    options?: RequireSessionOptions,
  ): (request: Request, context: C) => Promise<Response>;
  /**
   * Guards a sensitive route handler with a session and a fresh, single-use step-up grant (RFC
   * 9470 challenge otherwise). The grant is consumed only when the handler answers 2xx.
   */
  withStepUp<C = unknown>(
    handler: GuardedRouteHandler<C>,
    options?: RequireStepUpOptions,
  ): (request: Request, context: C) => Promise<Response>;
  /** The Tokenward instance (created on first use), e.g. to read `tw.context.store`. */
  instance(): Promise<Tokenward>;
}

let runtimeModule: Promise<typeof import('./node.js')> | undefined;
/**
 * Loads the Node.js side without letting the bundler touch it: the package runs as installed
 * (its native modules, worker threads and data files), and once per process.
 */
function loadRuntime(): Promise<typeof import('./node.js')> {
  runtimeModule ??= import(/* webpackIgnore: true */ /* turbopackIgnore: true */ 'tokenward/next/node') as Promise<
    typeof import('./node.js')
  >;
  return runtimeModule;
}

/**
 * Tokenward for a Next.js App Router app (Node.js runtime).
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
export function createNextAuth(options: NextAuthOptions = {}): NextAuth {
  const loginPath = options.loginPath ?? '/login';
  if (!/^\/(?![/\\])/.test(loginPath))
    throw new TypeError(
      `tokenward/next: loginPath must be a path on this site such as "/login" (got ${JSON.stringify(loginPath)})`,
    );
  let runtime: Promise<NextRuntime> | undefined;
  const get = (): Promise<NextRuntime> => (runtime ??= loadRuntime().then((m) => m.nextRuntime(options)));
  const route =
    (method: keyof NextRouteHandlers): NextRouteHandler =>
    async (request) =>
      (await get()).handlers[method](request);

  const getSession = async (): Promise<SessionInfo | null> =>
    (await get()).sessionFromHeaders(new Headers(await requestHeaders()));

  return {
    handlers: {
      GET: route('GET'),
      HEAD: route('HEAD'),
      POST: route('POST'),
      PUT: route('PUT'),
      PATCH: route('PATCH'),
      DELETE: route('DELETE'),
      OPTIONS: route('OPTIONS'),
    },
    getSession,
    async requireSession(opts = {}) {
      const session = await getSession();
      if (session !== null) return session;
      // Only a path on this site: never an open redirect through returnTo.
      const returnTo = /^\/(?![/\\])/.test(opts.returnTo ?? '') ? opts.returnTo : undefined;
      return redirect(returnTo === undefined ? loginPath : `${loginPath}?returnTo=${encodeURIComponent(returnTo)}`);
    },
    withSession: (handler, opts) => async (request, context) =>
      (await get()).withSession(handler, opts)(request, context),
    withStepUp: (handler, opts) => async (request, context) =>
      (await get()).withStepUp(handler, opts)(request, context),
    instance: async () => (await get()).instance(),
  };
}

/**
 * Only the route handlers: `export const { GET, POST, … } = createNextHandler(config)` in
 * `app/auth/[...path]/route.ts`. Same as `createNextAuth(config).handlers`.
 *
 * @example
 * ```ts
 * // app/auth/[...path]/route.ts
 * import { createNextHandler } from 'tokenward/next';
 * export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = createNextHandler({ dependencies: { env: process.env } });
 * ```
 */
export function createNextHandler(config: NextTokenwardConfig = {}): NextRouteHandlers {
  return createNextAuth(config).handlers;
}
