/**
 * `tokenward/next/middleware`: a Next.js middleware (edge runtime, or Node's `proxy.ts`) that
 * lets a request through only with a valid access token, verified locally with
 * `tokenward/verify` against the server's JWKS; otherwise it redirects to the login page. No
 * Node.js API and no import of `next`: it runs wherever Web Crypto and `fetch` do.
 *
 * @example
 * ```ts
 * // middleware.ts
 * import { createAuthMiddleware } from 'tokenward/next/middleware';
 * export default createAuthMiddleware({ issuer: process.env.TOKENWARD_PUBLIC_ORIGIN ?? 'http://localhost:3000' });
 * export const config = { matcher: ['/dashboard/:path*'] };
 * ```
 * @packageDocumentation
 */
import { createVerifier, type Verifier, type VerifierOptions } from '../verify/index.js';

/** Options of {@link createAuthMiddleware}. */
export interface AuthMiddlewareOptions {
  /** Tokenward's public origin: the tokens' `iss` (and, by default, `aud`). */
  issuer: string;
  /** Expected `aud`. Default: the issuer. */
  audience?: string;
  /** The JWKS URL. Default `<issuer>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Where to send a visitor without a valid token (`?returnTo=<path>` is added). Default `/login`. */
  loginPath?: string;
  /**
   * The cookie mode of the server: `host` (default: `__Host-tw_at`), `domain` (shared parent
   * domain: `__Secure-tw_at`) or `insecure` (`insecureHttp`: `tw_at`); `split: true` when the server
   * splits the access token in two cookies.
   */
  cookies?: { mode?: 'host' | 'domain' | 'insecure'; split?: boolean };
  /** Accepted algorithms, clock tolerance, fetch: passed to `createVerifier`. */
  verifier?: Pick<VerifierOptions, 'algorithms' | 'clockToleranceSec' | 'fetch' | 'jwks'>;
}

/** A Next.js middleware: `undefined` lets the request through, a `Response` answers it. */
export type AuthMiddleware = (request: Request) => Promise<Response | undefined>;

function readCookie(header: string, name: string): string | null {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/**
 * Creates the middleware. The verifier (and its JWKS cache) lives as long as the middleware.
 *
 * @example
 * ```ts
 * // middleware.ts — every page under /dashboard needs a signed-in visitor
 * import { createAuthMiddleware } from 'tokenward/next/middleware';
 * export default createAuthMiddleware({ issuer: 'https://app.example.com', loginPath: '/login' });
 * export const config = { matcher: ['/dashboard/:path*'] };
 * ```
 */
export function createAuthMiddleware(options: AuthMiddlewareOptions): AuthMiddleware {
  const issuer = new URL(options.issuer).origin;
  const loginPath = options.loginPath ?? '/login';
  if (!loginPath.startsWith('/') || loginPath.startsWith('//'))
    throw new TypeError(
      `tokenward/next/middleware: loginPath must be a path such as "/login" (got ${JSON.stringify(loginPath)})`,
    );
  const prefix = { host: '__Host-', domain: '__Secure-', insecure: '' }[options.cookies?.mode ?? 'host'];
  const split = options.cookies?.split === true;
  let verifier: Verifier | undefined;
  const verify = (token: string) => {
    verifier ??= createVerifier({
      issuer,
      audience: options.audience ?? issuer,
      jwksUrl: options.jwksUrl ?? `${issuer}/.well-known/jwks.json`,
      ...options.verifier,
    });
    return verifier.verify(token);
  };

  const tokenOf = (request: Request): string | null => {
    const cookies = request.headers.get('cookie') ?? '';
    if (!split) return readCookie(cookies, `${prefix}tw_at`);
    const hp = readCookie(cookies, `${prefix}tw_at_hp`);
    const sig = readCookie(cookies, `${prefix}tw_at_sig`);
    return hp === null || sig === null ? null : `${hp}.${sig}`;
  };

  return async (request) => {
    const token = tokenOf(request);
    if (token !== null) {
      try {
        await verify(token);
        return undefined;
      } catch {
        // Expired, revoked-by-rotation, forged: all go to the login page, which refreshes if it can.
      }
    }
    const url = new URL(request.url);
    const login = new URL(loginPath, url);
    login.searchParams.set('returnTo', `${url.pathname}${url.search}`);
    return new Response(null, { status: 307, headers: { Location: login.href, 'Cache-Control': 'no-store' } });
  };
}
