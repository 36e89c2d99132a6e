import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verify/create-verifier.js';
import { createDpopKey, createProof } from '../support/dpop.js';
import { Browser, createTestInstance, signup, type TestInstance } from '../support/instance.js';

/**
 * API.md "Tokens": EdDSA by default, ES256 and RS256 selectable. Each algorithm end to end:
 * browser cookies, JWKS, an independent verifier (`tokenward/verify` against the real listening
 * server), and the native token endpoint.
 */
const ORIGIN = 'http://localhost:3000';
const PASSWORD = 'correct horse battery staple';
const EXPECTED_JWK = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
  RS256: { kty: 'RSA' },
} as const;

describe.each(['EdDSA', 'ES256', 'RS256'] as const)('signing algorithm %s', (algorithm) => {
  let t: TestInstance;
  let b: Browser;
  let email: string;
  beforeAll(async () => {
    t = await createTestInstance({ algorithm });
    b = new Browser(t.request);
    email = (await signup(b)).email;
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs access tokens with it (header alg, typ at+jwt, kid of a published key)', async () => {
    const token = b.cookies.get('__Host-tw_at') as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: algorithm, typ: 'at+jwt', kid: expect.any(String) });
    const jwks = (await (await t.request('/.well-known/jwks.json')).json()) as { keys: Array<Record<string, unknown>> };
    const key = jwks.keys.find((k) => k.kid === header.kid);
    expect(key).toMatchObject({ ...EXPECTED_JWK[algorithm], alg: algorithm, use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key?.[member]).toBeUndefined();
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), {
      issuer: ORIGIN,
      audience: ORIGIN,
      algorithms: [algorithm],
    });
    expect(payload.sub).toBeTruthy();
  });

  it('the cookie session works: protected route, refresh, logout', async () => {
    expect((await b.fetch('/api/profile')).status).toBe(200);
    expect((await b.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
    expect((await b.fetch('/api/profile')).status).toBe(200);
    expect(b.cookieHeader().length).toBeLessThan(algorithm === 'RS256' ? 2048 : 1024);
  });

  it('another service verifies the token with tokenward/verify and the live JWKS', async () => {
    const verifier = createVerifier({
      issuer: ORIGIN,
      audience: ORIGIN,
      jwksUrl: `${t.url}/.well-known/jwks.json`,
      algorithms: [algorithm],
    });
    try {
      const claims = await verifier.verify(b.cookies.get('__Host-tw_at') as string);
      expect(claims.sub).toBeTruthy();
    } finally {
      verifier.close();
    }
  });

  it('the native token endpoint issues DPoP-bound tokens that work on protected routes', async () => {
    const key = await createDpopKey('ES256');
    const res = await t.request('/auth/token', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await createProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/token` }),
      },
      body: new URLSearchParams({ grant_type: 'password', username: email, password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(decodeProtectedHeader(access_token).alg).toBe(algorithm);
    const profile = await t.request('/api/profile', {
      headers: {
        authorization: `DPoP ${access_token}`,
        dpop: await createProof(key, { htm: 'GET', htu: `${ORIGIN}/api/profile`, accessToken: access_token }),
      },
    });
    expect(profile.status).toBe(200);
  });
});
