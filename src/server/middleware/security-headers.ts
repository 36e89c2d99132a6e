import type { MiddlewareHandler } from 'hono';
import type { KernelConfig } from '../../kernel/config/kernel-config.js';

/** CSP for responses that are not HTML pages: nothing may load, nothing may frame them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Default security headers on every response (API.md "Conventions"), `Cache-Control: no-store`
 * on `/auth/*` and `/.well-known/*` (JWKS sets its own), HSTS on https origins.
 */
export function securityHeaders(config: Pick<KernelConfig, 'basePath' | 'publicOrigin'>): MiddlewareHandler {
  const authPrefix = `${config.basePath}/`;
  const hsts = config.publicOrigin.startsWith('https:');
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('Referrer-Policy', 'no-referrer');
    h.set('X-Frame-Options', 'DENY');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (!h.has('Content-Security-Policy')) h.set('Content-Security-Policy', API_CSP);
    if (hsts) h.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
    const path = c.req.path;
    if (
      (path.startsWith(authPrefix) || path === config.basePath || path.startsWith('/.well-known/')) &&
      !h.has('Cache-Control')
    ) {
      h.set('Cache-Control', 'no-store');
    }
  };
}
