import type { Hono } from 'hono';
import { TokenwardError } from '../../errors.js';
import { timingSafeEqualStrings } from '../../kernel/crypto/encoding.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { defineRoute } from '../../server/define-route.js';

/** `GET /.well-known/jwks.json`, `GET /healthz`, `GET /metrics`. */
export function operationRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  defineRoute(app, '/.well-known/jwks.json', {
    GET: (c) => {
      // A key is published (as `next`) for longer than this max-age plus one node reload before
      // it may sign, and stays published until its tokens expire, so a cached copy never misses
      // a key that signs (KeyRing.schedule; `tokenward keys rotate`).
      c.header('Cache-Control', `public, max-age=${ctx.keys.schedule.jwksMaxAgeSec}`);
      return c.json(ctx.keys.jwks());
    },
  });

  // Revocations for other services' verifiers (tokenward/verify `revocation` option).
  defineRoute(app, `${ctx.config.basePath}/revocations`, {
    GET: async (c) => {
      const presented = /^Bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      let allowed = false;
      if (presented) {
        for (const token of ctx.config.serviceTokens)
          if (await timingSafeEqualStrings(presented, token)) allowed = true;
      }
      if (!allowed)
        throw new TokenwardError(ctx.config.serviceTokens.length === 0 ? 'not_found' : 'unauthenticated', {
          headers:
            ctx.config.serviceTokens.length === 0 ? {} : { 'WWW-Authenticate': 'Bearer realm="tokenward-revocations"' },
        });
      const sinceText = c.req.query('since') ?? '0';
      if (!/^\d{1,15}$/.test(sinceText))
        throw new TokenwardError('invalid_request', { detail: 'since must be epoch milliseconds.' });
      const now = ctx.clock.now();
      // Older revocations cannot matter: every access token of those sessions has expired.
      const since = Math.max(Number(sinceText), now - (ctx.config.accessTtlSec + 60) * 1000);
      const list = await ctx.store.listRevocationsSince(since);
      return c.json({ revocations: list.map((r) => ({ sid: r.sessionId, at: r.at })), now });
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
