/**
 * tokenward/verify throughput with a warm JWKS cache vs raw `jose.jwtVerify` on the same token,
 * in the same run. Both are driven with the same number of in-flight verifications (jose's
 * Web Crypto verify runs on libuv's thread pool). Prints ops/s and the ratio.
 *
 *   npx tsx bench/verify.ts [durationMs=3000] [concurrency=16]
 */
import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { signAccessToken } from '../src/kernel/tokens/access-token.js';
import { createVerifier } from '../src/verify/index.js';

const durationMs = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 16);
const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://api.example.test';

const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' }] });
const now = Math.floor(Date.now() / 1000);
const token = await signAccessToken(
  {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    sid: 'session-1',
    jti: 'jti-1',
    iat: now,
    exp: now + 3600,
    auth_time: now,
    amr: ['pwd'],
  },
  { kid: 'k1', alg: 'EdDSA', key: privateKey },
);

let jwksFetches = 0;
const verifier = createVerifier({
  issuer: ISSUER,
  audience: AUDIENCE,
  jwksUrl: `${ISSUER}/.well-known/jwks.json`,
  fetch: async () => {
    jwksFetches++;
    return new Response(jwks, { status: 200, headers: { 'cache-control': 'public, max-age=3600' } });
  },
});

async function measure(name: string, op: () => Promise<unknown>): Promise<number> {
  let ops = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        ops++;
      }
    }),
  );
  const rate = ops / ((performance.now() - started) / 1000);
  console.log(`${name.padEnd(28)} ${Math.round(rate).toLocaleString('en-US').padStart(8)} ops/s`);
  return rate;
}

const verifyOp = (): Promise<unknown> => verifier.verify(token);
const joseOp = (): Promise<unknown> =>
  jwtVerify(token, publicKey, { algorithms: ['EdDSA'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' });

// Warm up both paths (JWKS fetched once, JIT warmed), then alternate to even out drift.
for (let i = 0; i < 500; i++) await Promise.all([verifyOp(), joseOp()]);
const rates = { verify: [] as number[], jose: [] as number[] };
for (let round = 0; round < 2; round++) {
  rates.jose.push(await measure('jose.jwtVerify (raw)', joseOp));
  rates.verify.push(await measure('tokenward/verify verify()', verifyOp));
}
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `ratio verify()/jwtVerify: ${(avg(rates.verify) / avg(rates.jose)).toFixed(2)}x  (JWKS fetches: ${jwksFetches}, concurrency ${concurrency}, ${durationMs} ms per run)`,
);
verifier.close();
