import type { Hono } from 'hono';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, TokenwardEnv } from '../context.js';
import { defineRoute } from './define-route.js';

/** `GET /.well-known/jwks.json`, `GET /healthz`, `GET /metrics`. */
export function operationRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  defineRoute(app, '/.well-known/jwks.json', {
    GET: (c) => {
      // Keys are published (as `next`) before they sign, and kept after they stop, so caches
      // shorter than the access-token lifetime never miss a key.
      c.header('Cache-Control', `public, max-age=${Math.min(300, ctx.config.accessTtlSec)}`);
      return c.json(ctx.keys.jwks());
    },
  });

  defineRoute(app, '/healthz', {
    GET: async (c) => {
      try {
        await ctx.store.ping();
      } catch {
        throw new TokenwardError('service_unavailable', { detail: 'The store is unreachable.' });
      }
      const degraded = ctx.limiter.health() === 'degraded' || ctx.bus?.health() === 'degraded';
      c.header('Cache-Control', 'no-store');
      return c.json({ status: degraded ? 'degraded' : 'ok' });
    },
  });

  defineRoute(app, '/metrics', {
    GET: async (c) => {
      c.header('Cache-Control', 'no-store');
      c.header('Content-Type', ctx.metrics.registry.contentType);
      return c.body(await ctx.metrics.registry.metrics());
    },
  });
}
