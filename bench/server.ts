/**
 * The benchmark server: Tokenward (`tw.app`, configured from TOKENWARD_* like `npm start`) with
 * tiny routes that share one handler body, so the benches compare only what guards them:
 *
 *   GET /api/ping                 bare
 *   GET /api/ping/protected       tw.requireSession() (cookie or Bearer access token)
 *   GET /api/ping/hono-jwt-hs256  hono/jwt, HS256 Bearer token (the peer library, no cache)
 *   GET /api/ping/hono-jwt-eddsa  hono/jwt, EdDSA Bearer token
 *   GET /bench/peer-tokens        the two peer tokens (bench only)
 *   GET /bench/loop-delay         the server's event-loop delay since the last call (bench only)
 *
 * All routes sit behind the same Tokenward app middleware (security headers), so the ratios are
 * about the guard alone. Run by bench/lib.ts `startServer()` in its own process.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { jwt, sign } from 'hono/jwt';
import { exportJWK, generateKeyPair } from 'jose';
import { createTokenward } from '../src/create-tokenward.js';

const tw = await createTokenward({}, { env: process.env });
const { app } = tw;
const issuer = tw.config.publicOrigin;

// Peer tokens with the same claims as a Tokenward access token (iss, aud, sub, sid, jti, iat, exp, auth_time, amr).
const now = Math.floor(Date.now() / 1000);
const claims = {
  iss: issuer,
  aud: issuer,
  sub: crypto.randomUUID(),
  sid: crypto.randomUUID(),
  jti: 'bench-jti-0123456789ab',
  iat: now,
  exp: now + 3600,
  auth_time: now,
  amr: ['pwd'],
};
const hsSecret = crypto.getRandomValues(new Uint8Array(32));
const hsKey = await crypto.subtle.importKey('raw', hsSecret, { name: 'HMAC', hash: 'SHA-256' }, false, [
  'sign',
  'verify',
]);
const ed = await generateKeyPair('EdDSA', { extractable: true });
// Keys given as CryptoKeys: hono/jwt then skips its per-request key import (its best case).
const peerTokens = {
  hs256: await sign(claims, hsKey, 'HS256'),
  eddsa: await sign(claims, (await exportJWK(ed.privateKey)) as Parameters<typeof sign>[1], 'EdDSA'),
};
const verification = { iss: issuer, aud: issuer };

const ping = (c: { json: (body: unknown) => Response }) => c.json({ ok: true });
app.get('/api/ping', ping);
app.get('/api/ping/protected', tw.requireSession(), ping);
app.get('/api/ping/hono-jwt-hs256', jwt({ secret: hsKey, alg: 'HS256', verification }), ping);
app.get('/api/ping/hono-jwt-eddsa', jwt({ secret: ed.publicKey, alg: 'EdDSA', verification }), ping);
app.get('/bench/peer-tokens', (c) => c.json(peerTokens));
// Event-loop delay since the previous call (ms): tells server stalls from client-side latency.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
app.get('/bench/loop-delay', (c) => {
  const stats = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
  loop.reset();
  return c.json(stats);
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? '127.0.0.1' },
  (info) => {
    console.log(`bench server listening on port ${info.port}`);
  },
);
const stop = (): void => {
  server.close();
  void tw.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
