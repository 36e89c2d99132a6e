import { TokenwardError } from '../../errors.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';

/** `GET /.well-known/jwks.json`, `GET {basePath}/revocations`, `GET /healthz`, `GET /metrics`. */
export function operationEndpoints(ctx: ServerContext): AnyEndpoint[] {
  const jwks = defineEndpoint(
    { method: 'GET', path: '/.well-known/jwks.json', absolute: true, guard: 'none', body: 'none' },
    ({ c }) => {
      // A key is published (as `next`) for longer than this max-age plus one node reload before
      // it may sign, and stays published until its tokens expire, so a cached copy never misses
      // a key that signs (KeyRing.schedule; `tokenward keys rotate`).
      c.header('Cache-Control', `public, max-age=${ctx.keys.schedule.jwksMaxAgeSec}`);
      return c.json(ctx.keys.jwks());
    },
  );

  // Revocations for other services' verifiers (tokenward/verify `revocation` option).
  const revocations = defineEndpoint(
    { method: 'GET', path: '/revocations', guard: 'service-token', body: 'none' },
    async ({ c }) => {
      const sinceText = c.req.query('since') ?? '0';
      if (!/^\d{1,15}$/.test(sinceText))
        throw new TokenwardError('invalid_request', { detail: 'since must be epoch milliseconds.' });
      const now = ctx.clock.now();
      // Older revocations cannot matter: every access token of those sessions has expired.
      const since = Math.max(Number(sinceText), now - (ctx.config.accessTtlSec + 60) * 1000);
      const list = await ctx.store.listRevocationsSince(since);
      return c.json({ revocations: list.map((r) => ({ sid: r.sessionId, at: r.at })), now });
    },
  );

  const healthz = defineEndpoint(
    { method: 'GET', path: '/healthz', absolute: true, guard: 'none', body: 'none' },
    async ({ c }) => {
      try {
        await ctx.store.ping();
      } catch {
        throw new TokenwardError('service_unavailable', { detail: 'The store is unreachable.' });
      }
      const degraded = ctx.limiter.health() === 'degraded' || ctx.bus?.health() === 'degraded';
      c.header('Cache-Control', 'no-store');
      return c.json({ status: degraded ? 'degraded' : 'ok' });
    },
  );

  const metrics = defineEndpoint(
    { method: 'GET', path: '/metrics', absolute: true, guard: 'none', body: 'none' },
    async ({ c }) => {
      c.header('Cache-Control', 'no-store');
      c.header('Content-Type', ctx.metrics.registry.contentType);
      return c.body(await ctx.metrics.registry.metrics());
    },
  );

  return [jwks, revocations, healthz, metrics];
}
