import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDpopKey, createProof, type DpopKey } from '../support/dpop.js';
import { Browser, createTestInstance, signup, TestClock, type TestInstance } from '../support/instance.js';

const ORIGIN = 'http://localhost:3000';
const TOKEN_URL = `${ORIGIN}/auth/token`;
const PASSWORD = 'correct horse battery staple';

let t: TestInstance;
let clock: TestClock;
beforeAll(async () => {
  clock = new TestClock(Date.now());
  t = await createTestInstance({ limitLoginPerAccount: 3 }, { clock, listen: false });
});
afterAll(async () => {
  await t.close();
});

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

const form = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  t.request('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });

const asJson = (body: unknown, headers: Record<string, string> = {}) =>
  t.request('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function newUser(): Promise<string> {
  const email = `native${crypto.randomUUID().slice(0, 8)}@example.com`;
  const { response } = await signup(new Browser(t.request), email, PASSWORD);
  expect(response.status).toBe(201);
  return email;
}

/**
 * An RFC 6749 §5.2 error: `application/json` (not problem+json, which OAuth libraries refuse),
 * exactly `error` (a registered OAuth code), `error_description` and the stable Tokenward `code`.
 */
async function expectTokenError(
  res: Response,
  status: number,
  code: string,
  error: string,
): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
  expect(res.headers.getSetCookie()).toEqual([]);
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'error', 'error_description']);
  expect(body).toMatchObject({ code, error, error_description: expect.any(String) });
  return body;
}

async function passwordGrant(email: string, headers: Record<string, string> = {}): Promise<TokenBody> {
  const res = await form({ grant_type: 'password', username: email, password: PASSWORD }, headers);
  expect(res.status).toBe(200);
  return (await res.json()) as TokenBody;
}

describe('token endpoint › password grant (RFC 6749 §4.3, §5.1)', () => {
  it('form-encoded: 200 with exactly access_token, token_type, expires_in, refresh_token; no-store; no cookies', async () => {
    const email = await newUser();
    const res = await form({ grant_type: 'password', username: email, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.getSetCookie()).toEqual([]);
    const body = (await res.json()) as TokenBody;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(600);
    expect(body.refresh_token).toMatch(/^twr_[A-Za-z0-9_-]{92}$/);
    const claims = decodeJwt(body.access_token);
    expect(claims.cnf).toBeUndefined();
    expect(claims.amr).toEqual(['pwd']);
  });

  it('JSON body works the same; the username is an email compared case-insensitively', async () => {
    const email = await newUser();
    const res = await asJson({ grant_type: 'password', username: ` ${email.toUpperCase()} `, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(((await res.json()) as TokenBody).token_type).toBe('Bearer');
  });

  it('the access token works as Bearer on protected routes and /auth/me (no CSRF without cookies)', async () => {
    const email = await newUser();
    const { access_token } = await passwordGrant(email);
    const me = await t.request('/auth/me', { headers: { authorization: `Bearer ${access_token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe(email);
    const note = await t.request('/api/notes', {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: '{"text":"from the app"}',
    });
    expect(note.status).toBe(201);
  });

  it('the session behaves like a browser session: listed, and revocable (then the refresh grant fails)', async () => {
    const email = await newUser();
    const { access_token, refresh_token } = await passwordGrant(email, {
      'user-agent': 'ExampleApp/1.0 (iPhone; iOS 17.0)',
    });
    const sessionId = decodeJwt(access_token).sid as string;
    const list = await t.request('/auth/sessions', { headers: { authorization: `Bearer ${access_token}` } });
    expect(list.status).toBe(200);
    const sessions = ((await list.json()) as { sessions: Array<{ id: string; current: boolean }> }).sessions;
    expect(sessions.find((s) => s.id === sessionId)?.current).toBe(true);
    // Revoked from another session of the same user (a browser).
    const b = new Browser(t.request);
    expect((await b.fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } })).status).toBe(200);
    expect((await b.fetch(`/auth/sessions/${sessionId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await t.request('/auth/me', { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(401);
    await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token }),
      400,
      'invalid_grant',
      'invalid_grant',
    );
  });

  it('wrong password and unknown user: the same 400 invalid_grant body', async () => {
    const email = await newUser();
    const wrong = await form({ grant_type: 'password', username: email, password: 'not the password' });
    const unknown = await form({
      grant_type: 'password',
      username: 'nobody-here@example.com',
      password: 'not the password',
    });
    const a = await expectTokenError(wrong.clone(), 400, 'invalid_grant', 'invalid_grant');
    await expectTokenError(unknown.clone(), 400, 'invalid_grant', 'invalid_grant');
    expect(await wrong.text()).toBe(await unknown.text());
    expect(a).toEqual({
      error: 'invalid_grant',
      error_description: 'The email or password is incorrect.',
      code: 'invalid_grant',
    });
  });

  it('shares the login backoff: failures here and at /auth/login count together, then 429 with Retry-After', async () => {
    const email = await newUser();
    await form({ grant_type: 'password', username: email, password: 'wrong password 1' });
    const b = new Browser(t.request);
    expect(
      (await b.fetch('/auth/login', { method: 'POST', json: { email, password: 'wrong password 2' } })).status,
    ).toBe(401);
    await form({ grant_type: 'password', username: email, password: 'wrong password 3' });
    // Fourth attempt (limit 3 in this instance): backing off, even with the right password.
    const res = await form({ grant_type: 'password', username: email, password: PASSWORD });
    await expectTokenError(res.clone(), 429, 'too_many_attempts', 'temporarily_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await b.fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } })).status).toBe(429);
    clock.advance(2);
    expect((await form({ grant_type: 'password', username: email, password: PASSWORD })).status).toBe(200);
  });
});

describe('token endpoint › refresh grant (RFC 6749 §6)', () => {
  it('rotates: a new refresh token and access token for the same session', async () => {
    const email = await newUser();
    const first = await passwordGrant(email);
    const res = await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.getSetCookie()).toEqual([]);
    const next = (await res.json()) as TokenBody;
    expect(next.refresh_token).not.toBe(first.refresh_token);
    expect(next.token_type).toBe('Bearer');
    expect(decodeJwt(next.access_token).sid).toBe(decodeJwt(first.access_token).sid);
  });

  it('grace window › a native client without DPoP has no device identity, so a rotated token presented again is reuse', async () => {
    // API.md "Tokens": the graced successor goes only to the device that rotated; a Bearer client
    // cannot prove it is that device, so it gets no grace (a lost response means signing in again).
    const first = await passwordGrant(await newUser());
    const a = (await (
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
    ).json()) as TokenBody;
    clock.advance(1);
    const body = await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
      400,
      'invalid_grant',
      'invalid_grant',
    );
    expect(body).not.toHaveProperty('refresh_token');
    expect(JSON.stringify(body)).not.toContain(a.refresh_token);
    await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: a.refresh_token }),
      400,
      'invalid_grant',
      'invalid_grant',
    );
    expect((await t.tw.context.store.getSession(decodeJwt(first.access_token).sid as string))?.revokeReason).toBe(
      'refresh_reuse',
    );
  });

  it('reuse after the grace window: 400 invalid_grant, the session is revoked and its tokens fail', async () => {
    const first = await passwordGrant(await newUser());
    const next = (await (
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
    ).json()) as TokenBody;
    clock.advance(11);
    const body = await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
      400,
      'invalid_grant',
      'invalid_grant',
    );
    expect(body.error_description).toMatch(/used twice/);
    await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: next.refresh_token }),
      400,
      'invalid_grant',
      'invalid_grant',
    );
    expect((await t.request('/auth/me', { headers: { authorization: `Bearer ${next.access_token}` } })).status).toBe(
      401,
    );
    const session = await t.tw.context.store.getSession(decodeJwt(first.access_token).sid as string);
    expect(session?.revokedAt).not.toBeNull();
  });

  it.each([
    ['an unknown token', `twr_${'A'.repeat(43)}`],
    ['a malformed token', 'not-a-refresh-token'],
  ])('%s: 400 invalid_grant', async (_name, token) => {
    await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: token }),
      400,
      'invalid_grant',
      'invalid_grant',
    );
  });
});

describe('token endpoint › request errors (RFC 6749 §5.2)', () => {
  it.each([
    ['no grant_type', 'invalid_request', 'invalid_request', { username: 'a@b.co', password: 'x' }],
    ['an unknown grant_type', 'unsupported_grant_type', 'unsupported_grant_type', { grant_type: 'client_credentials' }],
    [
      'the authorization_code grant',
      'unsupported_grant_type',
      'unsupported_grant_type',
      { grant_type: 'authorization_code', code: 'abc' },
    ],
    [
      'password grant without username',
      'invalid_request',
      'invalid_request',
      { grant_type: 'password', password: 'x' },
    ],
    [
      'password grant without password',
      'invalid_request',
      'invalid_request',
      { grant_type: 'password', username: 'a@b.co' },
    ],
    ['refresh grant without refresh_token', 'invalid_request', 'invalid_request', { grant_type: 'refresh_token' }],
  ])('%s: 400 %s', async (_name, code, error, params) => {
    await expectTokenError(await form(params as Record<string, string>), 400, code, error);
  });

  it("client_id (RFC 6749 §2.2): a malformed one, or the browser client's own id, is 400 invalid_request and no session starts", async () => {
    const email = await newUser();
    for (const clientId of ['x'.repeat(129), 'with space', 'tab\there', 'ünicode', ORIGIN]) {
      await expectTokenError(
        await form({ grant_type: 'password', username: email, password: PASSWORD, client_id: clientId }),
        400,
        'invalid_request',
        'invalid_request',
      );
    }
    const user = await t.tw.context.store.findUserByEmail(email);
    expect(await t.tw.context.store.listActiveSessions(user?.id as string, clock.now())).toHaveLength(1); // the signup's
    const ok = await form({ grant_type: 'password', username: email, password: PASSWORD, client_id: 'x'.repeat(128) });
    expect(ok.status).toBe(200);
    expect(decodeJwt(((await ok.json()) as TokenBody).access_token).client_id).toBe('x'.repeat(128));
  });

  it('a repeated parameter is 400 invalid_request (RFC 6749 §3.2)', async () => {
    const res = await t.request('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&grant_type=refresh_token&username=a%40b.co&password=x',
    });
    await expectTokenError(res, 400, 'invalid_request', 'invalid_request');
  });

  it('JSON members of the wrong type are 400 invalid_request', async () => {
    await expectTokenError(
      await asJson({ grant_type: 'password', username: ['a@b.co'], password: 'x' }),
      400,
      'invalid_request',
      'invalid_request',
    );
    await expectTokenError(
      await asJson({ grant_type: 'refresh_token', refresh_token: { $ne: null } }),
      400,
      'invalid_request',
      'invalid_request',
    );
  });

  it('malformed JSON is 400, other content types 415, bodies over 64 KiB 413', async () => {
    await expectTokenError(
      await t.request('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"grant_type":',
      }),
      400,
      'invalid_request',
      'invalid_request',
    );
    await expectTokenError(
      await t.request('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'grant_type=password',
      }),
      415,
      'unsupported_media_type',
      'invalid_request',
    );
    await expectTokenError(
      await t.request('/auth/token', { method: 'POST', body: 'grant_type=password' }),
      415,
      'unsupported_media_type',
      'invalid_request',
    );
    await expectTokenError(
      await form({ grant_type: 'password', username: 'a@b.co', password: 'x'.repeat(70_000) }),
      413,
      'payload_too_large',
      'invalid_request',
    );
  });

  it('GET is 405 with Allow: POST', async () => {
    const res = await t.request('/auth/token');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('ignores cookies: a request carrying browser cookies gets tokens in the body and sets no cookie', async () => {
    const b = new Browser(t.request);
    const { email } = await signup(b, `cookie${crypto.randomUUID().slice(0, 8)}@example.com`, PASSWORD);
    const res = await form(
      { grant_type: 'password', username: email, password: PASSWORD },
      { cookie: b.cookieHeader() },
    );
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe('token endpoint › DPoP (RFC 9449 §5)', () => {
  let key: DpopKey;
  beforeAll(async () => {
    key = await createDpopKey('ES256');
  });
  const proof = (k: DpopKey = key, extra: { nonce?: string } = {}) =>
    createProof(k, { htm: 'POST', htu: TOKEN_URL, iat: Math.floor(clock.now() / 1000), ...extra });

  it('password grant with a proof: token_type DPoP, cnf.jkt in the access token, the session is bound', async () => {
    const res = await form(
      { grant_type: 'password', username: await newUser(), password: PASSWORD },
      { dpop: await proof() },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenBody;
    expect(body.token_type).toBe('DPoP');
    const claims = decodeJwt(body.access_token);
    expect(claims.cnf).toEqual({ jkt: key.jkt });
    expect((await t.tw.context.store.getSession(claims.sid as string))?.dpopJkt).toBe(key.jkt);
  });

  it('refresh grant with a proof of the same key: DPoP-bound again', async () => {
    const first = (await (
      await form({ grant_type: 'password', username: await newUser(), password: PASSWORD }, { dpop: await proof() })
    ).json()) as TokenBody;
    const res = await form(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { dpop: await proof() },
    );
    expect(res.status).toBe(200);
    const next = (await res.json()) as TokenBody;
    expect(next.token_type).toBe('DPoP');
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('a bound refresh token without a proof, or with another key, is 400 invalid_dpop_proof and nothing rotates', async () => {
    const first = (await (
      await form({ grant_type: 'password', username: await newUser(), password: PASSWORD }, { dpop: await proof() })
    ).json()) as TokenBody;
    await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
      400,
      'invalid_dpop_proof',
      'invalid_dpop_proof',
    );
    const other = await createDpopKey('ES256');
    await expectTokenError(
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, { dpop: await proof(other) }),
      400,
      'invalid_dpop_proof',
      'invalid_dpop_proof',
    );
    // Through the browser refresh endpoint (a stolen token planted in a cookie): refused too.
    const viaCookie = await t.request('/auth/refresh', {
      method: 'POST',
      headers: { cookie: `__Secure-tw_rt=${first.refresh_token}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(viaCookie.status).toBe(401);
    expect(((await viaCookie.json()) as { code: string }).code).toBe('refresh_invalid');
    // The legitimate client is unaffected: its token was never rotated.
    clock.advance(11);
    const res = await form(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { dpop: await proof() },
    );
    expect(res.status).toBe(200);
  });

  it('grace window › the same DPoP key gets the same successor again within the window', async () => {
    const first = (await (
      await form({ grant_type: 'password', username: await newUser(), password: PASSWORD }, { dpop: await proof() })
    ).json()) as TokenBody;
    const a = (await (
      await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, { dpop: await proof() })
    ).json()) as TokenBody;
    clock.advance(5);
    const res = await form(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { dpop: await proof() },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as TokenBody).refresh_token).toBe(a.refresh_token);
  });

  it('grace window › a stolen rotated token re-presented with another DPoP key (or none) is reuse and revokes the session', async () => {
    for (const thiefKey of [await createDpopKey('ES256'), null]) {
      // An unbound session (password grant without DPoP) whose client rotated with its key.
      const first = await passwordGrant(await newUser());
      const a = (await (
        await form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, { dpop: await proof() })
      ).json()) as TokenBody;
      clock.advance(1);
      const stolen = await form(
        { grant_type: 'refresh_token', refresh_token: first.refresh_token },
        thiefKey === null ? {} : { dpop: await proof(thiefKey) },
      );
      const body = await expectTokenError(stolen, 400, 'invalid_grant', 'invalid_grant');
      expect(body.error_description).toMatch(/used twice/);
      expect(JSON.stringify(body)).not.toContain(a.refresh_token);
      const sid = decodeJwt(first.access_token).sid as string;
      expect((await t.tw.context.store.getSession(sid))?.revokeReason).toBe('refresh_reuse');
      // The legitimate client's successor is dead too.
      await expectTokenError(
        await form({ grant_type: 'refresh_token', refresh_token: a.refresh_token }, { dpop: await proof() }),
        400,
        'invalid_grant',
        'invalid_grant',
      );
    }
  });

  it('an unbound refresh token with a proof: the new access token is bound to the proof key', async () => {
    const first = await passwordGrant(await newUser());
    const res = await form(
      { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      { dpop: await proof() },
    );
    const next = (await res.json()) as TokenBody;
    expect(next.token_type).toBe('DPoP');
    expect(decodeJwt(next.access_token).cnf).toEqual({ jkt: key.jkt });
  });

  it('an invalid proof is 400 invalid_dpop_proof and no session is created', async () => {
    const email = await newUser();
    const wrongUrl = await createProof(key, {
      htm: 'POST',
      htu: `${ORIGIN}/auth/login`,
      iat: Math.floor(clock.now() / 1000),
    });
    const body = await expectTokenError(
      await form({ grant_type: 'password', username: email, password: PASSWORD }, { dpop: wrongUrl }),
      400,
      'invalid_dpop_proof',
      'invalid_dpop_proof',
    );
    expect(body.error_description).toContain('htu');
    const user = await t.tw.context.store.findUserByEmail(email);
    expect((await t.tw.context.store.listActiveSessions(user?.id as string, clock.now())).length).toBe(1); // the signup's
  });

  it('a proof is single-use at the token endpoint too', async () => {
    const email = await newUser();
    const p = await proof();
    expect((await form({ grant_type: 'password', username: email, password: PASSWORD }, { dpop: p })).status).toBe(200);
    const body = await expectTokenError(
      await form({ grant_type: 'password', username: email, password: PASSWORD }, { dpop: p }),
      400,
      'invalid_dpop_proof',
      'invalid_dpop_proof',
    );
    expect(body.error_description).toContain('replay');
  });
});

describe('token endpoint › DPoP server nonce (RFC 9449 §8)', () => {
  let n: TestInstance;
  let key: DpopKey;
  beforeAll(async () => {
    n = await createTestInstance({}, { listen: false, dpop: { requireNonce: true } });
    key = await createDpopKey('EdDSA');
  });
  afterAll(async () => {
    await n.close();
  });

  it('without a nonce: 400 use_dpop_nonce with DPoP-Nonce; retrying with it succeeds and the answer carries a nonce', async () => {
    const { response } = await signup(new Browser(n.request), 'nonce@example.com', PASSWORD);
    expect(response.status).toBe(201);
    const send = async (dpop: string) =>
      n.request('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', dpop },
        body: `grant_type=password&username=nonce%40example.com&password=${encodeURIComponent(PASSWORD)}`,
      });
    const first = await send(await createProof(key, { htm: 'POST', htu: TOKEN_URL }));
    expect(first.status).toBe(400);
    expect(first.headers.get('content-type')).toMatch(/^application\/json(;|$)/);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const nonce = first.headers.get('dpop-nonce') as string;
    expect(nonce).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/);
    expect((await first.json()) as { error: string; code: string }).toMatchObject({
      code: 'use_dpop_nonce',
      error: 'use_dpop_nonce',
    });
    const forged = await send(
      await createProof(key, { htm: 'POST', htu: TOKEN_URL, nonce: `${nonce.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAAAA` }),
    );
    expect(forged.status).toBe(400);
    const second = await send(await createProof(key, { htm: 'POST', htu: TOKEN_URL, nonce }));
    expect(second.status).toBe(200);
    expect(second.headers.get('dpop-nonce')).toBeTruthy();
    expect(((await second.json()) as TokenBody).token_type).toBe('DPoP');
  });
});
