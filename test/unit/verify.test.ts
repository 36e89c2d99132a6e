/**
 * tokenward/verify: JWKS caching and refetching, JWK filtering, clock tolerance, revocation
 * polling, DPoP-bound tokens, and edge safety (nothing but jose, fetch and Web Crypto).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { base64url, type CryptoKey, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AccessTokenClaims,
  type SigningAlgorithm,
  signAccessToken,
} from '../../src/kernel/tokens/access-token.js';
import { createVerifier, type Verifier, type VerifierOptions, VerifyError } from '../../src/verify/index.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://api.example.test';
const JWKS_URL = 'https://auth.example.test/.well-known/jwks.json';
const REVOCATIONS_URL = 'https://auth.example.test/auth/revocations';
const T0 = Date.UTC(2030, 0, 1);

interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}
let ed: KeyPair;
let ed2: KeyPair;
let es: KeyPair;
let rsa1024: KeyPair;
let p384: KeyPair;

async function jwkOf(pair: KeyPair, kid: string, extra: Partial<JWK> = {}): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, use: 'sig', ...extra };
}

function claims(nowMs: number, overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  const now = Math.floor(nowMs / 1000);
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    sid: 'session-1',
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 600,
    auth_time: now,
    amr: ['pwd'],
    ...overrides,
  };
}

function token(pair: KeyPair, kid: string, c: AccessTokenClaims, alg: SigningAlgorithm = 'EdDSA'): Promise<string> {
  return signAccessToken(c, { kid, alg, key: pair.privateKey });
}

/** RS256 token signed directly with Web Crypto (jose refuses to sign with RSA keys < 2048 bits). */
async function rawRs256(pair: KeyPair, kid: string, c: AccessTokenClaims): Promise<string> {
  const enc = new TextEncoder();
  const input = `${base64url.encode(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid }))}.${base64url.encode(JSON.stringify(c))}`;
  const sig = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, enc.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(sig))}`;
}

/** An in-test issuer: mutable JWKS and revocation feed, counting requests. */
class FakeIssuer {
  jwks: { keys: JWK[] } = { keys: [] };
  jwksHeaders: Record<string, string> = { 'cache-control': 'public, max-age=300' };
  jwksFailure: 'network' | 'status' | 'redirect' | 'json' | 'huge' | 'hang' | undefined;
  jwksRequests = 0;
  /** Resolves pending JWKS responses when set (to hold a fetch open). */
  gate: Promise<void> | undefined;
  revocations: Array<{ sid: string; at: number | string }> = [];
  revocationNow: () => number | string = () => T0;
  revocationFailure = false;
  revocationRequests: Array<{ url: string; authorization: string | null }> = [];

  fetch = async (url: string, init: RequestInit): Promise<Response> => {
    if (url.startsWith(REVOCATIONS_URL)) {
      this.revocationRequests.push({ url, authorization: new Headers(init.headers).get('authorization') });
      if (this.revocationFailure) return new Response('down', { status: 503 });
      return Response.json({ revocations: this.revocations, now: this.revocationNow() });
    }
    if (url !== JWKS_URL) return new Response('not found', { status: 404 });
    this.jwksRequests++;
    if (this.gate) await this.gate;
    switch (this.jwksFailure) {
      case 'network':
        throw new TypeError('fetch failed');
      case 'status':
        return new Response('oops', { status: 500 });
      case 'redirect':
        return new Response(null, { status: 302, headers: { location: 'https://attacker.example/jwks.json' } });
      case 'json':
        return new Response('{"keys": [', { status: 200 });
      case 'huge':
        return new Response(JSON.stringify({ keys: [], pad: 'x'.repeat(100_000) }), { status: 200 });
      case 'hang':
        return new Promise((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        );
      default:
        return new Response(JSON.stringify(this.jwks), {
          status: 200,
          headers: { 'content-type': 'application/json', ...this.jwksHeaders },
        });
    }
  };
}

let issuer: FakeIssuer;
let clock: number;
const verifiers: Verifier[] = [];

function makeVerifier(options: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUrl: JWKS_URL,
    fetch: issuer.fetch,
    now: () => clock,
    ...options,
  });
  verifiers.push(verifier);
  return verifier;
}

beforeAll(async () => {
  [ed, ed2, es, p384] = await Promise.all([
    generateKeyPair('EdDSA', { extractable: true }),
    generateKeyPair('EdDSA', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('ES384', { extractable: true }),
  ]);
  rsa1024 = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as KeyPair;
});

async function freshIssuer(): Promise<void> {
  issuer = new FakeIssuer();
  issuer.jwks = { keys: [await jwkOf(ed, 'k1', { alg: 'EdDSA' })] };
  clock = T0;
}

afterEach(() => {
  for (const v of verifiers.splice(0)) v.close();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('verify › JWKS cache', () => {
  it('fetches the JWKS once and serves later verifications from the cache', async () => {
    await freshIssuer();
    const v = makeVerifier();
    for (let i = 0; i < 20; i++)
      await expect(v.verify(await token(ed, 'k1', claims(clock)))).resolves.toMatchObject({ sub: 'user-1' });
    expect(issuer.jwksRequests).toBe(1);
  });

  it('concurrent first verifications share one JWKS request', async () => {
    await freshIssuer();
    const v = makeVerifier();
    const t = await token(ed, 'k1', claims(clock));
    await Promise.all(Array.from({ length: 20 }, () => v.verify(t)));
    expect(issuer.jwksRequests).toBe(1);
  });

  it('without Cache-Control the keys stay fresh for 5 minutes', async () => {
    await freshIssuer();
    issuer.jwksHeaders = {};
    const v = makeVerifier();
    await v.verify(await token(ed, 'k1', claims(clock)));
    clock = T0 + 299_999;
    await v.verify(await token(ed, 'k1', claims(clock)));
    expect(issuer.jwksRequests).toBe(1);
    clock = T0 + 300_000;
    await v.verify(await token(ed, 'k1', claims(clock)));
    expect(issuer.jwksRequests).toBe(2);
  });

  it('honours Cache-Control max-age', async () => {
    await freshIssuer();
    issuer.jwksHeaders = { 'cache-control': 'public, max-age=60' };
    const v = makeVerifier();
    await v.verify(await token(ed, 'k1', claims(clock)));
    clock = T0 + 59_000;
    await v.verify(await token(ed, 'k1', claims(clock)));
    expect(issuer.jwksRequests).toBe(1);
    clock = T0 + 60_000;
    await v.verify(await token(ed, 'k1', claims(clock)));
    expect(issuer.jwksRequests).toBe(2);
  });

  it('subtracts the Age header from max-age', async () => {
    await freshIssuer();
    issuer.jwksHeaders = { 'cache-control': 'max-age=120', age: '60' };
    const v = makeVerifier();
    await v.verify(await token(ed, 'k1', claims(clock)));
    clock = T0 + 60_000;
    await v.verify(await token(ed, 'k1', claims(clock)));
    expect(issuer.jwksRequests).toBe(2);
  });

  it('raises max-age=0 and no-store to the 30 s cooldown instead of fetching per token', async () => {
    for (const cacheControl of ['max-age=0', 'no-store']) {
      await freshIssuer();
      issuer.jwksHeaders = { 'cache-control': cacheControl };
      const v = makeVerifier();
      for (let i = 0; i < 5; i++) await v.verify(await token(ed, 'k1', claims(clock)));
      expect(issuer.jwksRequests).toBe(1);
      clock = T0 + 30_000;
      await v.verify(await token(ed, 'k1', claims(clock)));
      expect(issuer.jwksRequests).toBe(2);
    }
  });

  it('clamps max-age to one day so a removed key is dropped within a day', async () => {
    await freshIssuer();
    issuer.jwksHeaders = { 'cache-control': 'max-age=31536000' };
    const v = makeVerifier();
    await v.verify(await token(ed, 'k1', claims(clock)));
    issuer.jwks = { keys: [await jwkOf(ed2, 'k2')] };
    clock = T0 + 86_400_000;
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'unknown_key',
    });
    expect(issuer.jwksRequests).toBe(2);
  });

  it('picks up a rotated-in key: an unknown kid refetches and then verifies', async () => {
    await freshIssuer();
    const v = makeVerifier();
    await v.verify(await token(ed, 'k1', claims(clock)));
    issuer.jwks = { keys: [await jwkOf(ed, 'k1'), await jwkOf(ed2, 'k2')] };
    clock = T0 + 30_000;
    await expect(v.verify(await token(ed2, 'k2', claims(clock)))).resolves.toMatchObject({ sid: 'session-1' });
    expect(issuer.jwksRequests).toBe(2);
  });

  it('coalesces concurrent unknown-kid refetches into one request', async () => {
    await freshIssuer();
    const v = makeVerifier();
    await v.verify(await token(ed, 'k1', claims(clock)));
    issuer.jwks = { keys: [await jwkOf(ed, 'k1'), await jwkOf(ed2, 'k2')] };
    clock = T0 + 30_000;
    let open: () => void = () => undefined;
    issuer.gate = new Promise((r) => {
      open = r;
    });
    const t = await token(ed2, 'k2', claims(clock));
    const pending = Array.from({ length: 10 }, () => v.verify(t));
    await new Promise((r) => setTimeout(r, 20));
    expect(issuer.jwksRequests).toBe(2);
    open();
    await Promise.all(pending);
    expect(issuer.jwksRequests).toBe(2);
  });

  it('honours a configured refetch cooldown', async () => {
    await freshIssuer();
    const v = makeVerifier({ jwks: { cooldownMs: 5_000 } });
    await v.verify(await token(ed, 'k1', claims(clock)));
    clock = T0 + 4_999;
    await expect(v.verify(await token(ed2, 'nope', claims(clock)))).rejects.toMatchObject({ reason: 'unknown_key' });
    expect(issuer.jwksRequests).toBe(1);
    clock = T0 + 5_000;
    await expect(v.verify(await token(ed2, 'nope', claims(clock)))).rejects.toMatchObject({ reason: 'unknown_key' });
    expect(issuer.jwksRequests).toBe(2);
  });
});

describe('verify › JWKS endpoint failures', () => {
  const cases: Array<[FakeIssuer['jwksFailure'], string]> = [
    ['network', 'fetch_failed'],
    ['status', 'http_status'],
    ['redirect', 'http_status'],
    ['json', 'invalid_response'],
    ['huge', 'invalid_response'],
    ['hang', 'timeout'],
  ];
  for (const [failure, reason] of cases) {
    it(`a ${failure} failure gives jwks_unavailable / ${reason}`, async () => {
      await freshIssuer();
      issuer.jwksFailure = failure;
      const v = makeVerifier({ jwks: { timeoutMs: 50 } });
      await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
        name: 'VerifyError',
        code: 'jwks_unavailable',
        reason,
      });
    });
  }

  it('a JWKS with no usable key gives jwks_unavailable / no_usable_keys', async () => {
    await freshIssuer();
    issuer.jwks = { keys: [await jwkOf(es, 'only-es')] };
    const v = makeVerifier({ algorithms: ['EdDSA'] });
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      code: 'jwks_unavailable',
      reason: 'no_usable_keys',
    });
  });

  it('a down endpoint sees at most one request per cooldown', async () => {
    await freshIssuer();
    issuer.jwksFailure = 'status';
    const v = makeVerifier();
    const t = await token(ed, 'k1', claims(clock));
    for (let i = 0; i < 10; i++) await expect(v.verify(t)).rejects.toMatchObject({ code: 'jwks_unavailable' });
    expect(issuer.jwksRequests).toBe(1);
    clock = T0 + 30_000;
    await expect(v.verify(t)).rejects.toMatchObject({ code: 'jwks_unavailable' });
    expect(issuer.jwksRequests).toBe(2);
  });

  it('keeps expired keys for staleIfErrorMs while the endpoint fails, then fails closed', async () => {
    await freshIssuer();
    issuer.jwksHeaders = { 'cache-control': 'max-age=60' };
    const v = makeVerifier({ jwks: { staleIfErrorMs: 120_000 } });
    await v.verify(await token(ed, 'k1', claims(clock)));
    issuer.jwksFailure = 'status';
    clock = T0 + 179_000;
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).resolves.toMatchObject({ sub: 'user-1' });
    clock = T0 + 180_000;
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      code: 'jwks_unavailable',
      reason: 'http_status',
    });
  });

  it('uses the global fetch against a real HTTP JWKS endpoint on loopback', async () => {
    const jwks = JSON.stringify({ keys: [await jwkOf(ed, 'k1')] });
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }).end(jwks);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const v = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      });
      verifiers.push(v);
      await expect(v.verify(await token(ed, 'k1', claims(Date.now())))).resolves.toMatchObject({ sub: 'user-1' });
      await v.verify(await token(ed, 'k1', claims(Date.now())));
      expect(requests).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses a plain-http JWKS URL off loopback and URLs with credentials', () => {
    expect(() =>
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://auth.example.test/jwks.json' }),
    ).toThrow(TypeError);
    expect(() =>
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://u:p@auth.example.test/jwks.json' }),
    ).toThrow(TypeError);
    expect(() =>
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://localhost:3000/jwks.json' }),
    ).not.toThrow();
  });
});

describe('verify › JWK filtering', () => {
  async function expectIgnored(
    bad: JWK,
    signed: () => Promise<string>,
    algorithms: SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256'],
  ): Promise<void> {
    await freshIssuer();
    issuer.jwks = { keys: [await jwkOf(ed, 'k1'), bad] };
    const v = makeVerifier({ algorithms });
    await v.verify(await token(ed, 'k1', claims(clock))); // control: the set loaded
    await expect(v.verify(await signed())).rejects.toMatchObject({ code: 'invalid_token', reason: 'unknown_key' });
  }

  it('imports a well-formed key of each allowed type (control)', async () => {
    await freshIssuer();
    issuer.jwks = { keys: [await jwkOf(ed, 'k1'), await jwkOf(es, 'e1')] };
    const v = makeVerifier({ algorithms: ['EdDSA', 'ES256'] });
    await expect(v.verify(await token(es, 'e1', claims(clock), 'ES256'))).resolves.toMatchObject({ sub: 'user-1' });
  });
  it('ignores a key with use "enc"', async () => {
    await expectIgnored(await jwkOf(ed2, 'bad', { use: 'enc' }), () => token(ed2, 'bad', claims(clock)));
  });
  it('ignores a key whose key_ops exclude verify', async () => {
    await expectIgnored(await jwkOf(ed2, 'bad', { key_ops: ['sign'] }), () => token(ed2, 'bad', claims(clock)));
  });
  it('ignores a key carrying private members', async () => {
    const priv = { ...(await exportJWK(ed2.privateKey)), kid: 'bad', use: 'sig' };
    await expectIgnored(priv, () => token(ed2, 'bad', claims(clock)));
  });
  it('ignores an RSA key shorter than 2048 bits', async () => {
    await expectIgnored(await jwkOf(rsa1024, 'bad'), () => rawRs256(rsa1024, 'bad', claims(clock)));
  });
  it('ignores an EC key on P-384 when ES256 is allowed', async () => {
    await expectIgnored(await jwkOf(p384, 'bad', { alg: 'ES256' }), () => token(es, 'bad', claims(clock), 'ES256'));
  });
  it('imports only key types of allowed algorithms (an EC key is skipped when only EdDSA is allowed)', async () => {
    // Had the EC key been imported under "bad", the lookup would find it and fail on "algorithm".
    await expectIgnored(await jwkOf(es, 'bad'), () => token(ed2, 'bad', claims(clock)), ['EdDSA']);
  });
  it('ignores an OKP key whose alg member says RS256', async () => {
    await expectIgnored(await jwkOf(ed2, 'bad', { alg: 'RS256' }), () => token(ed2, 'bad', claims(clock)));
  });
  it('ignores a symmetric (oct) key', async () => {
    await expectIgnored({ kty: 'oct', k: base64url.encode(new Uint8Array(32)), kid: 'bad', use: 'sig' }, () =>
      token(ed2, 'bad', claims(clock)),
    );
  });
});

describe('verify › clock tolerance', () => {
  const at = (offsetSec: number): number => T0 + offsetSec * 1000;
  it('allows 30 s of skew by default: exp 29 s ago passes, 30 s ago is expired', async () => {
    await freshIssuer();
    const v = makeVerifier();
    const c = claims(T0);
    clock = at(600 + 29);
    await expect(v.verify(await token(ed, 'k1', c))).resolves.toBeDefined();
    clock = at(600 + 30);
    await expect(v.verify(await token(ed, 'k1', c))).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'expired',
    });
  });
  it('allows nbf and iat up to 30 s in the future, not 31 s', async () => {
    await freshIssuer();
    const v = makeVerifier();
    const now = T0 / 1000;
    await expect(
      v.verify(await token(ed, 'k1', { ...claims(T0), nbf: now + 30 } as AccessTokenClaims)),
    ).resolves.toBeDefined();
    await expect(
      v.verify(await token(ed, 'k1', { ...claims(T0), nbf: now + 31 } as AccessTokenClaims)),
    ).rejects.toMatchObject({ reason: 'not_yet_valid' });
    await expect(v.verify(await token(ed, 'k1', claims(T0, { iat: now + 30 })))).resolves.toBeDefined();
    await expect(v.verify(await token(ed, 'k1', claims(T0, { iat: now + 31 })))).rejects.toMatchObject({
      reason: 'claims',
    });
  });
  it('clockToleranceSec 0 rejects a token expired one second ago', async () => {
    await freshIssuer();
    const v = makeVerifier({ clockToleranceSec: 0 });
    clock = at(601);
    await expect(v.verify(await token(ed, 'k1', claims(T0)))).rejects.toMatchObject({ reason: 'expired' });
  });
  it('refuses a tolerance above 30 s unless maxClockToleranceSec is raised explicitly', async () => {
    await freshIssuer();
    expect(() => makeVerifier({ clockToleranceSec: 31 })).toThrow(RangeError);
    const v = makeVerifier({ clockToleranceSec: 60, maxClockToleranceSec: 60 });
    clock = at(600 + 59);
    await expect(v.verify(await token(ed, 'k1', claims(T0)))).resolves.toBeDefined();
  });
  it('refuses negative, NaN and infinite tolerances', async () => {
    await freshIssuer();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => makeVerifier({ clockToleranceSec: bad })).toThrow(RangeError);
      expect(() => makeVerifier({ clockToleranceSec: 10, maxClockToleranceSec: bad })).toThrow(RangeError);
    }
  });
});

describe('verify › revocation polling', () => {
  const revocation = (
    extra: Partial<NonNullable<VerifierOptions['revocation']>> = {},
  ): NonNullable<VerifierOptions['revocation']> => ({
    url: REVOCATIONS_URL,
    token: 'feed-secret',
    intervalMs: 60_000,
    ...extra,
  });

  it('rejects a token of a revoked session with code revoked; other sessions pass', async () => {
    await freshIssuer();
    issuer.revocations = [{ sid: 'session-1', at: T0 - 1000 }];
    const v = makeVerifier({ revocation: revocation() });
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      name: 'VerifyError',
      code: 'revoked',
      reason: 'session_revoked',
    });
    await expect(v.verify(await token(ed, 'k1', claims(clock, { sid: 'session-2' })))).resolves.toMatchObject({
      sid: 'session-2',
    });
  });

  it("sends the bearer credential, since=0 first, then since = the issuer's now minus 5 s", async () => {
    await freshIssuer();
    issuer.revocationNow = () => T0 + 123_000;
    const v = makeVerifier({ revocation: revocation() });
    await v.verify(await token(ed, 'k1', claims(clock)));
    clock = T0 + 120_000; // two intervals later: the verify polls inline
    await v.verify(await token(ed, 'k1', claims(clock)));
    const [first, second] = issuer.revocationRequests;
    expect(first?.authorization).toBe('Bearer feed-secret');
    expect(new URL(first?.url ?? '').searchParams.get('since')).toBe('0');
    expect(new URL(second?.url ?? '').searchParams.get('since')).toBe(String(T0 + 118_000));
  });

  it('accepts ISO 8601 times in the feed', async () => {
    await freshIssuer();
    issuer.revocations = [{ sid: 'session-1', at: new Date(T0).toISOString() }];
    issuer.revocationNow = () => new Date(T0).toISOString();
    const v = makeVerifier({ revocation: revocation() });
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({ code: 'revoked' });
  });

  it('applies a revocation within one poll interval through background polling', async () => {
    await freshIssuer();
    const v = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: JWKS_URL,
      fetch: issuer.fetch,
      revocation: revocation({ intervalMs: 50 }),
    });
    verifiers.push(v);
    const t = await token(ed, 'k1', claims(Date.now()));
    await expect(v.verify(t)).resolves.toBeDefined();
    issuer.revocations = [{ sid: 'session-1', at: Date.now() }];
    const revokedAt = Date.now();
    await vi.waitFor(async () => expect(v.verify(t)).rejects.toMatchObject({ code: 'revoked' }), {
      timeout: 1_000,
      interval: 10,
    });
    expect(Date.now() - revokedAt).toBeLessThan(500);
    expect(issuer.revocationRequests.length).toBeGreaterThanOrEqual(2);
  });

  it('fails closed when the first poll fails', async () => {
    await freshIssuer();
    issuer.revocationFailure = true;
    const v = makeVerifier({ revocation: revocation() });
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      code: 'revocation_unavailable',
      reason: 'http_status',
    });
  });

  it('keeps working through short outages, fails closed past maxStaleMs', async () => {
    await freshIssuer();
    const v = makeVerifier({ revocation: revocation({ intervalMs: 1_000, maxStaleMs: 10_000 }) });
    await v.verify(await token(ed, 'k1', claims(clock)));
    issuer.revocationFailure = true;
    clock = T0 + 10_000;
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).resolves.toBeDefined();
    clock = T0 + 10_001;
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      code: 'revocation_unavailable',
    });
    issuer.revocationFailure = false;
    clock = T0 + 12_001;
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).resolves.toBeDefined();
  });

  it('rejects a malformed feed answer as revocation_unavailable / invalid_response', async () => {
    await freshIssuer();
    issuer.revocations = [{ sid: '', at: T0 }];
    const v = makeVerifier({ revocation: revocation() });
    await expect(v.verify(await token(ed, 'k1', claims(clock)))).rejects.toMatchObject({
      code: 'revocation_unavailable',
      reason: 'invalid_response',
    });
  });

  it('close() stops polling and later verifications throw closed', async () => {
    await freshIssuer();
    const v = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: JWKS_URL,
      fetch: issuer.fetch,
      revocation: revocation({ intervalMs: 20 }),
    });
    await v.verify(await token(ed, 'k1', claims(Date.now())));
    v.close();
    const polls = issuer.revocationRequests.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(issuer.revocationRequests.length).toBe(polls);
    await expect(v.verify(await token(ed, 'k1', claims(Date.now())))).rejects.toMatchObject({ code: 'closed' });
  });

  it('refuses a plain-http feed off loopback (the request carries a credential)', async () => {
    await freshIssuer();
    expect(() =>
      makeVerifier({ revocation: revocation({ url: 'http://auth.example.test/auth/revocations' }) }),
    ).toThrow(TypeError);
  });
});

describe('verify › DPoP-bound tokens', () => {
  it('refuses a token with cnf.jkt by default (this verifier checks no DPoP proof)', async () => {
    await freshIssuer();
    const v = makeVerifier();
    await expect(v.verify(await token(ed, 'k1', claims(clock, { cnf: { jkt: 'abc' } })))).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'dpop_bound',
    });
  });
  it('returns it with acceptDpopBound: true', async () => {
    await freshIssuer();
    const v = makeVerifier({ acceptDpopBound: true });
    await expect(v.verify(await token(ed, 'k1', claims(clock, { cnf: { jkt: 'abc' } })))).resolves.toMatchObject({
      cnf: { jkt: 'abc' },
    });
  });
});

describe('verify › edge safety', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

  /** Every module reachable from src/verify/index.ts through relative imports, with its bare imports. */
  function importGraph(): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    const visit = (file: string): void => {
      if (graph.has(file)) return;
      // Comments hold usage examples (`from 'tokenward/verify'`), not imports.
      const source = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|\s)\/\/.*$/gm, '');
      const specifiers = [
        ...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]/g),
      ].map((m) => (m[1] ?? m[2]) as string);
      graph.set(file, specifiers);
      for (const spec of specifiers) if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
    };
    visit(join(root, 'src/verify/index.ts'));
    return graph;
  }

  it('src/verify and everything it imports use only jose and relative modules (no node:*, no require)', () => {
    const graph = importGraph();
    expect([...graph.keys()].some((f) => f.endsWith('src/kernel/tokens/access-token.ts'))).toBe(true);
    expect(graph.size).toBeGreaterThanOrEqual(7);
    for (const [file, specifiers] of graph) {
      for (const spec of specifiers)
        expect(spec.startsWith('.') || spec === 'jose', `${file} imports ${spec}`).toBe(true);
      const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(source, file).not.toMatch(/\brequire\s*\(|node:|\bprocess\.|\bBuffer\b/);
    }
  });

  it('verifies through the global Web Crypto API', async () => {
    await freshIssuer();
    const v = makeVerifier();
    const spy = vi.spyOn(globalThis.crypto.subtle, 'verify');
    await v.verify(await token(ed, 'k1', claims(clock)));
    expect(spy).toHaveBeenCalled();
  });

  it('never puts the token or the feed credential into an error', async () => {
    await freshIssuer();
    issuer.revocationFailure = true;
    const v = makeVerifier({ revocation: { url: REVOCATIONS_URL, token: 'feed-secret-xyz' } });
    const t = await token(ed, 'k1', claims(clock));
    const error = await v.verify(t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifyError);
    const dump = JSON.stringify({
      message: (error as Error).message,
      ...(error as object),
      stack: (error as Error).stack,
    });
    expect(dump).not.toContain('feed-secret-xyz');
    expect(dump).not.toContain(t.split('.')[2]);
  });
});
