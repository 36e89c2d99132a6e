import { base64url, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ath,
  createDpopKey,
  createProof,
  type DpopKey,
  hmacProof,
  type ProofOptions,
  unsignedProof,
} from '../support/dpop.js';
import { Browser, createTestInstance, signup, TestClock, type TestInstance } from '../support/instance.js';

/**
 * RFC 9449 §4.3 and §7.1: every way a DPoP proof (or its use) can be wrong has one test, each
 * through the real handler, asserting the 401 challenge names the rule that refused it.
 */
const ORIGIN = 'http://localhost:3000';
const PROFILE = `${ORIGIN}/api/profile`;
const PASSWORD = 'correct horse battery staple';

let t: TestInstance;
let clock: TestClock;
let key: DpopKey;
let accessToken: string;
let cookieHeader: string;

beforeAll(async () => {
  clock = new TestClock(Date.now());
  t = await createTestInstance({}, { clock, listen: false });
  key = await createDpopKey('ES256');
  const b = new Browser(t.request);
  const { email } = await signup(b, 'dpop-user@example.com', PASSWORD);
  const proof = await createProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/token`, iat: nowSec() });
  const res = await t.request('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
    body: new URLSearchParams({ grant_type: 'password', username: email, password: PASSWORD }).toString(),
  });
  expect(res.status).toBe(200);
  accessToken = ((await res.json()) as { access_token: string }).access_token;
  cookieHeader = `__Host-tw_at=${accessToken}`;
});
afterAll(async () => {
  await t.close();
});

function nowSec(): number {
  return Math.floor(clock.now() / 1000);
}

/** A valid proof for GET /api/profile with this token, unless options break it. */
function proofFor(options: Partial<ProofOptions> = {}, k: DpopKey = key): Promise<string> {
  return createProof(k, { htm: 'GET', htu: PROFILE, iat: nowSec(), accessToken, ...options });
}

function getProfile(headers: Record<string, string>, path = '/api/profile', method = 'GET'): Promise<Response> {
  return t.request(path, { method, headers });
}

const withProof = (dpop: string | null, token = accessToken) =>
  getProfile({ authorization: `DPoP ${token}`, ...(dpop === null ? {} : { dpop }) });

/** 401 invalid_token with a DPoP challenge carrying `error` and, when given, the refused rule. */
async function expectRejected(res: Response, error: string, rule?: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(((await res.json()) as { code: string }).code).toBe('invalid_token');
  const challenge = res.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^DPoP realm="[^"]+", algs="[^"]+", error="[a-z_]+"/);
  expect(challenge).toContain(`error="${error}"`);
  if (rule !== undefined) expect(challenge).toContain(`(${rule})`);
}

describe('DPoP › the happy path', () => {
  it('Authorization: DPoP with a valid proof passes, and the session says so', async () => {
    const res = await withProof(await proofFor());
    expect(res.status).toBe(200);
    const me = await getProfile(
      { authorization: `DPoP ${accessToken}`, dpop: await proofFor({ htu: `${ORIGIN}/auth/me` }) },
      '/auth/me',
    );
    expect(me.status).toBe(200);
  });

  it('htu is compared without query or fragment, with scheme and host case-normalised', async () => {
    const res = await t.request('/api/profile?x=1', {
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await proofFor({ htu: 'HTTP://LOCALHOST:3000/api/profile?y=2#frag' }),
      },
    });
    expect(res.status).toBe(200);
  });

  it('state-changing requests with DPoP and no cookies need no CSRF token', async () => {
    const res = await t.request('/api/notes', {
      method: 'POST',
      headers: {
        authorization: `DPoP ${accessToken}`,
        dpop: await proofFor({ htm: 'POST', htu: `${ORIGIN}/api/notes` }),
        'content-type': 'application/json',
        'sec-fetch-site': 'cross-site',
      },
      body: '{"text":"bound"}',
    });
    expect(res.status).toBe(201);
  });
});

describe('DPoP › binding cannot be downgraded (RFC 9449 §7.1)', () => {
  it('a bound token presented as Bearer is rejected', async () => {
    await expectRejected(await getProfile({ authorization: `Bearer ${accessToken}` }), 'invalid_token');
  });
  it('a bound token presented as Bearer, even with a valid proof, is rejected', async () => {
    await expectRejected(
      await getProfile({ authorization: `Bearer ${accessToken}`, dpop: await proofFor() }),
      'invalid_token',
    );
  });
  it('a bound token in the access cookie is rejected', async () => {
    await expectRejected(await getProfile({ cookie: cookieHeader }), 'invalid_token');
  });
  it('an unbound (Bearer) token presented with the DPoP scheme is rejected', async () => {
    const b = new Browser(t.request);
    await signup(b);
    const bearer = b.cookies.get('__Host-tw_at') as string;
    await expectRejected(
      await withProof(await createProof(key, { htm: 'GET', htu: PROFILE, iat: nowSec(), accessToken: bearer }), bearer),
      'invalid_token',
    );
  });
});

describe('DPoP › proof rejection rules (RFC 9449 §4.3)', () => {
  it('check 1: no DPoP header', async () => {
    await expectRejected(await withProof(null), 'invalid_dpop_proof', 'missing');
  });
  it('check 1: more than one DPoP header', async () => {
    const headers = new Headers({ authorization: `DPoP ${accessToken}` });
    headers.append('dpop', await proofFor());
    headers.append('dpop', await proofFor());
    await expectRejected(await t.request('/api/profile', { headers }), 'invalid_dpop_proof', 'multiple');
  });
  it('check 2: not a compact JWS', async () => {
    await expectRejected(await withProof('not.a-jwt'), 'invalid_dpop_proof', 'malformed');
  });
  it('check 2: oversized proof', async () => {
    await expectRejected(await withProof(`${'e'.repeat(9000)}.e30.AAAA`), 'invalid_dpop_proof', 'malformed');
  });
  it('check 2: header that is not JSON', async () => {
    await expectRejected(
      await withProof(`${base64url.encode('{not json')}.e30.AAAA`),
      'invalid_dpop_proof',
      'malformed',
    );
  });
  it('check 4: typ other than dpop+jwt', async () => {
    await expectRejected(await withProof(await proofFor({ header: { typ: 'JWT' } })), 'invalid_dpop_proof', 'typ');
  });
  it('check 4: typ missing', async () => {
    await expectRejected(await withProof(await proofFor({ header: { typ: undefined } })), 'invalid_dpop_proof', 'typ');
  });
  it('check 4: an access token (at+jwt) used as a proof', async () => {
    await expectRejected(await withProof(accessToken), 'invalid_dpop_proof', 'typ');
  });
  it('check 5: alg none (empty signature)', async () => {
    await expectRejected(
      await withProof(unsignedProof(key, { jti: crypto.randomUUID(), htm: 'GET', htu: PROFILE, iat: nowSec() })),
      'invalid_dpop_proof',
      'malformed',
    );
  });
  it('check 5: alg none with a filler signature', async () => {
    await expectRejected(
      await withProof(
        `${unsignedProof(key, { jti: crypto.randomUUID(), htm: 'GET', htu: PROFILE, iat: nowSec() })}AAAA`,
      ),
      'invalid_dpop_proof',
      'alg',
    );
  });
  it('check 5: a symmetric algorithm (HS256)', async () => {
    await expectRejected(
      await withProof(await hmacProof({ jti: crypto.randomUUID(), htm: 'GET', htu: PROFILE, iat: nowSec() })),
      'invalid_dpop_proof',
      'alg',
    );
  });
  it('check 5: alg that does not match the key (ES384 over a P-256 key)', async () => {
    const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
    const input = `${enc({ typ: 'dpop+jwt', alg: 'ES384', jwk: key.publicJwk })}.${enc({ jti: crypto.randomUUID(), htm: 'GET', htu: PROFILE, iat: nowSec(), ath: await ath(accessToken) })}`;
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-384' },
      key.privateKey,
      new TextEncoder().encode(input),
    );
    await expectRejected(
      await withProof(`${input}.${base64url.encode(new Uint8Array(signature))}`),
      'invalid_dpop_proof',
      'jwk',
    );
  });
  it('check 7: no jwk header', async () => {
    await expectRejected(await withProof(await proofFor({ header: { jwk: undefined } })), 'invalid_dpop_proof', 'jwk');
  });
  it('check 7: a jwk with the private key (d) in it', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    await expectRejected(await withProof(await proofFor({ header: { jwk: privateJwk } })), 'invalid_dpop_proof', 'jwk');
  });
  it('check 7: a symmetric jwk (kty oct)', async () => {
    await expectRejected(
      await withProof(await proofFor({ header: { jwk: { kty: 'oct', k: 'AAAA' } } })),
      'invalid_dpop_proof',
      'jwk',
    );
  });
  it('check 7: a jwk that is not an object', async () => {
    await expectRejected(await withProof(await proofFor({ header: { jwk: 'key' } })), 'invalid_dpop_proof', 'jwk');
  });
  it('check 6: signed by another key than the embedded one', async () => {
    const other = await createDpopKey('ES256');
    await expectRejected(
      await withProof(await proofFor({ signWith: other.privateKey })),
      'invalid_dpop_proof',
      'signature',
    );
  });
  it('check 6: a stripped or altered signature', async () => {
    const proof = await proofFor();
    const [h, p, s] = proof.split('.') as [string, string, string];
    const altered = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
    await expectRejected(await withProof(altered), 'invalid_dpop_proof', 'signature');
  });
  it('check 6: an altered payload (htm changed after signing)', async () => {
    const proof = await proofFor();
    const [h, , s] = proof.split('.') as [string, string, string];
    const payload = base64url.encode(
      JSON.stringify({ jti: crypto.randomUUID(), htm: 'GET', htu: PROFILE, iat: nowSec() + 1 }),
    );
    await expectRejected(await withProof(`${h}.${payload}.${s}`), 'invalid_dpop_proof', 'signature');
  });
  it.each(['jti', 'htm', 'htu', 'iat'])('check 3: %s missing', async (claim) => {
    await expectRejected(
      await withProof(await proofFor({ payload: { [claim]: undefined } })),
      'invalid_dpop_proof',
      'claims',
    );
  });
  it('check 3: iat that is not a number', async () => {
    await expectRejected(
      await withProof(await proofFor({ payload: { iat: String(nowSec()) } })),
      'invalid_dpop_proof',
      'claims',
    );
  });
  it('check 3: an over-long jti', async () => {
    await expectRejected(await withProof(await proofFor({ jti: 'j'.repeat(300) })), 'invalid_dpop_proof', 'claims');
  });
  it('check 8: htm of another method', async () => {
    await expectRejected(await withProof(await proofFor({ htm: 'POST' })), 'invalid_dpop_proof', 'htm');
  });
  it('check 8: htm in lower case', async () => {
    await expectRejected(await withProof(await proofFor({ htm: 'get' })), 'invalid_dpop_proof', 'htm');
  });
  it('check 9: htu of another path', async () => {
    await expectRejected(await withProof(await proofFor({ htu: `${ORIGIN}/api/notes` })), 'invalid_dpop_proof', 'htu');
  });
  it('check 9: htu of another origin', async () => {
    await expectRejected(
      await withProof(await proofFor({ htu: 'https://evil.example/api/profile' })),
      'invalid_dpop_proof',
      'htu',
    );
  });
  it('check 9: htu that is not an absolute URI', async () => {
    await expectRejected(await withProof(await proofFor({ htu: '/api/profile' })), 'invalid_dpop_proof', 'htu');
  });
  it('check 9: the Host header does not decide htu (the public origin does)', async () => {
    const res = await t.request('/api/profile', {
      headers: {
        authorization: `DPoP ${accessToken}`,
        host: 'evil.example',
        dpop: await proofFor({ htu: 'http://evil.example/api/profile' }),
      },
    });
    await expectRejected(res, 'invalid_dpop_proof', 'htu');
  });
  it('check 11: iat too old (61 s)', async () => {
    await expectRejected(await withProof(await proofFor({ iat: nowSec() - 61 })), 'invalid_dpop_proof', 'iat');
  });
  it('check 11: iat in the future (61 s)', async () => {
    await expectRejected(await withProof(await proofFor({ iat: nowSec() + 61 })), 'invalid_dpop_proof', 'iat');
  });
  it('check 11: iat within the window passes (59 s old)', async () => {
    expect((await withProof(await proofFor({ iat: nowSec() - 59 }))).status).toBe(200);
  });
  it('check 11: an expired proof (exp in the past) is refused', async () => {
    await expectRejected(
      await withProof(await proofFor({ payload: { exp: nowSec() - 10 } })),
      'invalid_dpop_proof',
      'claims',
    );
  });
  it('check 12 (§7): ath missing on a resource request', async () => {
    await expectRejected(await withProof(await proofFor({ payload: { ath: undefined } })), 'invalid_dpop_proof', 'ath');
  });
  it('check 12 (§7): ath of another access token', async () => {
    await expectRejected(
      await withProof(await proofFor({ accessToken: `${accessToken}x` })),
      'invalid_dpop_proof',
      'ath',
    );
  });
  it('check 12: proof key is not the key the token is bound to', async () => {
    const other = await createDpopKey('ES256');
    await expectRejected(await withProof(await proofFor({}, other)), 'invalid_dpop_proof', 'key_mismatch');
  });
  it('§11.1: a replayed proof (same jti) is refused', async () => {
    const proof = await proofFor();
    expect((await withProof(proof)).status).toBe(200);
    await expectRejected(await withProof(proof), 'invalid_dpop_proof', 'replay');
  });
  it('§11.1: a refused proof does not burn its jti', async () => {
    const jti = crypto.randomUUID();
    await expectRejected(await withProof(await proofFor({ jti, htm: 'POST' })), 'invalid_dpop_proof', 'htm');
    expect((await withProof(await proofFor({ jti }))).status).toBe(200);
  });
});

describe('DPoP › server nonce (RFC 9449 §8, §9)', () => {
  let n: TestInstance;
  let nClock: TestClock;
  let nKey: DpopKey;
  let nToken: string;
  let nonce: string;
  beforeAll(async () => {
    nClock = new TestClock(Date.now());
    n = await createTestInstance(
      {},
      { clock: nClock, listen: false, dpop: { requireNonce: true, nonceLifetimeSec: 60 } },
    );
    nKey = await createDpopKey('EdDSA');
    await signup(new Browser(n.request), 'nonce-user@example.com', PASSWORD);
    const send = (dpop: string) =>
      n.request('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop },
        body: `grant_type=password&username=nonce-user%40example.com&password=${encodeURIComponent(PASSWORD)}`,
      });
    const first = await send(
      await createProof(nKey, { htm: 'POST', htu: `${ORIGIN}/auth/token`, iat: Math.floor(nClock.now() / 1000) }),
    );
    nonce = first.headers.get('dpop-nonce') as string;
    const res = await send(
      await createProof(nKey, {
        htm: 'POST',
        htu: `${ORIGIN}/auth/token`,
        iat: Math.floor(nClock.now() / 1000),
        nonce,
      }),
    );
    nToken = ((await res.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await n.close();
  });
  const resource = async (proofNonce: string | undefined) =>
    n.request('/api/profile', {
      headers: {
        authorization: `DPoP ${nToken}`,
        dpop: await createProof(nKey, {
          htm: 'GET',
          htu: PROFILE,
          iat: Math.floor(nClock.now() / 1000),
          accessToken: nToken,
          ...(proofNonce === undefined ? {} : { nonce: proofNonce }),
        }),
      },
    });

  it('a proof with the current nonce passes', async () => {
    expect((await resource(nonce)).status).toBe(200);
  });
  it('no nonce: 401 use_dpop_nonce with a DPoP-Nonce header', async () => {
    const res = await resource(undefined);
    expect(res.headers.get('dpop-nonce')).toBeTruthy();
    await expectRejected(res, 'use_dpop_nonce');
  });
  it('a made-up nonce is refused', async () => {
    await expectRejected(await resource('0.AAAAAAAAAAAAAAAAAAAAAAAA'), 'use_dpop_nonce');
  });
  it('the previous nonce still passes; one two periods old does not', async () => {
    nClock.advance(60);
    expect((await resource(nonce)).status).toBe(200);
    nClock.advance(60);
    const res = await resource(nonce);
    const fresh = res.headers.get('dpop-nonce') as string;
    await expectRejected(res, 'use_dpop_nonce');
    expect(fresh).not.toBe(nonce);
    expect((await resource(fresh)).status).toBe(200);
  });
});
