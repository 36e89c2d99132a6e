/**
 * `POST /auth/token` as a certified OAuth client library sees it: `oauth4webapi` (panva) talks to
 * the real handler. Its error handling (RFC 6749 §5.2: `application/json` with `error`) and its
 * DPoP nonce retry (RFC 9449 §8) must work unmodified.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTestInstance, signup, type TestInstance } from '../support/instance.js';

const ORIGIN = 'http://localhost:3000';
const PASSWORD = 'correct horse battery staple';
const AS: oauth.AuthorizationServer = {
  issuer: ORIGIN,
  token_endpoint: `${ORIGIN}/auth/token`,
  jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
};
const CLIENT: oauth.Client = { client_id: 'example-native-app' };

/** oauth4webapi's HTTP goes through the instance's real handler (plain http allowed: a test origin). */
function clientOptions(t: TestInstance): {
  [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  [oauth.allowInsecureRequests]: true;
} {
  return {
    [oauth.customFetch]: (url, init) => t.request(url, init as RequestInit),
    [oauth.allowInsecureRequests]: true,
  };
}

async function newAccount(t: TestInstance): Promise<string> {
  const email = `oauth-${crypto.randomUUID().slice(0, 8)}@example.com`;
  expect((await signup(new Browser(t.request), email, PASSWORD)).response.status).toBe(201);
  return email;
}

/** The password grant through oauth4webapi (with a DPoP handle: retried once on use_dpop_nonce). */
async function passwordGrant(
  t: TestInstance,
  email: string,
  dpop?: oauth.DPoPHandle,
): Promise<oauth.TokenEndpointResponse> {
  const send = async () => {
    const response = await oauth.genericTokenEndpointRequest(
      AS,
      CLIENT,
      oauth.None(),
      'password',
      { username: email, password: PASSWORD },
      { ...clientOptions(t), ...(dpop ? { DPoP: dpop } : {}) },
    );
    return oauth.processGenericTokenEndpointResponse(AS, CLIENT, response);
  };
  try {
    return await send();
  } catch (error) {
    if (dpop && oauth.isDPoPNonceError(error)) return send();
    throw error;
  }
}

describe('token endpoint › errors through oauth4webapi (RFC 6749 §5.2)', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({}, { listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a refresh_token grant error is parsed as an OAuth error: invalid_grant, with the stable Tokenward code', async () => {
    const response = await oauth.refreshTokenGrantRequest(
      AS,
      CLIENT,
      oauth.None(),
      `twr_${'A'.repeat(43)}`,
      clientOptions(t),
    );
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const error = await oauth.processRefreshTokenResponse(AS, CLIENT, response).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    const body = error as oauth.ResponseBodyError;
    expect(body.status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    expect(body.error_description).toBe('The refresh token is missing or invalid.');
    expect(body.cause).toEqual({
      error: 'invalid_grant',
      error_description: 'The refresh token is missing or invalid.',
      code: 'invalid_grant',
    });
  });

  it('a request error (no refresh_token) is invalid_request; an unknown grant type unsupported_grant_type', async () => {
    const missing = await oauth.genericTokenEndpointRequest(
      AS,
      CLIENT,
      oauth.None(),
      'refresh_token',
      {},
      clientOptions(t),
    );
    await expect(oauth.processGenericTokenEndpointResponse(AS, CLIENT, missing)).rejects.toMatchObject({
      error: 'invalid_request',
      status: 400,
      cause: { code: 'invalid_request' },
    });
    const unknown = await oauth.genericTokenEndpointRequest(
      AS,
      CLIENT,
      oauth.None(),
      'client_credentials',
      {},
      clientOptions(t),
    );
    await expect(oauth.processGenericTokenEndpointResponse(AS, CLIENT, unknown)).rejects.toMatchObject({
      error: 'unsupported_grant_type',
      cause: { code: 'unsupported_grant_type' },
    });
  });

  it('the refresh_token grant succeeds through the library and rotates', async () => {
    const first = await passwordGrant(t, await newAccount(t));
    const response = await oauth.refreshTokenGrantRequest(
      AS,
      CLIENT,
      oauth.None(),
      first.refresh_token as string,
      clientOptions(t),
    );
    const next = await oauth.processRefreshTokenResponse(AS, CLIENT, response);
    expect(next.token_type).toBe('bearer');
    expect(next.refresh_token).not.toBe(first.refresh_token);
  });
});

describe('token endpoint › DPoP nonce retry through oauth4webapi (RFC 9449 §8)', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({}, { listen: false, dpop: { requireNonce: true } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a refresh_token grant without the server nonce gets use_dpop_nonce with DPoP-Nonce; the library retries and succeeds', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const email = await newAccount(t);
    // A fresh handle has no nonce: the password grant is answered use_dpop_nonce first, then retried.
    const first = await passwordGrant(t, email, oauth.DPoP(CLIENT, keyPair));
    expect(first.token_type).toBe('dpop');

    const dpop = oauth.DPoP(CLIENT, keyPair); // again without a nonce: the refresh must go through the same dance
    const refresh = () =>
      oauth.refreshTokenGrantRequest(AS, CLIENT, oauth.None(), first.refresh_token as string, {
        ...clientOptions(t),
        DPoP: dpop,
      });
    const rejected = await refresh();
    expect(rejected.status).toBe(400);
    expect(rejected.headers.get('dpop-nonce')).toBeTruthy();
    const error = await oauth.processRefreshTokenResponse(AS, CLIENT, rejected).then(
      () => null,
      (e: unknown) => e,
    );
    expect(oauth.isDPoPNonceError(error)).toBe(true);
    expect((error as oauth.ResponseBodyError).cause).toMatchObject({ error: 'use_dpop_nonce', code: 'use_dpop_nonce' });

    const next = await oauth.processRefreshTokenResponse(AS, CLIENT, await refresh());
    expect(next.token_type).toBe('dpop');
    expect(next.refresh_token).toMatch(/^twr_/);
    expect(next.refresh_token).not.toBe(first.refresh_token);
  });
});

describe('access tokens › RFC 9068 JWT profile, validated by oauth4webapi.validateJwtAccessToken', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({}, { listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  /** What a resource server using oauth4webapi does with a Bearer token (issuer metadata + JWKS of this server). */
  const validate = (token: string) =>
    oauth.validateJwtAccessToken(
      AS,
      new Request('https://api.example.com/things', { headers: { authorization: `Bearer ${token}` } }),
      ORIGIN,
      clientOptions(t),
    );
  const header = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>;

  it('a cookie session: typ at+jwt and client_id = the browser client (the public origin), also after a refresh', async () => {
    const b = new Browser(t.request);
    await signup(b);
    const first = b.cookies.get('__Host-tw_at') as string;
    expect(header(first).typ).toBe('at+jwt');
    expect(await validate(first)).toMatchObject({ iss: ORIGIN, aud: ORIGIN, client_id: ORIGIN });
    expect((await b.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
    expect(await validate(b.cookies.get('__Host-tw_at') as string)).toMatchObject({ client_id: ORIGIN });
  });

  it("an /auth/token session: client_id = the request's client_id, kept by the refresh grant (even one naming no client)", async () => {
    const first = await passwordGrant(t, await newAccount(t));
    expect(header(first.access_token).typ).toBe('at+jwt');
    expect(await validate(first.access_token)).toMatchObject({ client_id: CLIENT.client_id });
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token as string });
    const response = await t.request('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(response.status).toBe(200);
    const next = (await response.json()) as { access_token: string };
    expect(await validate(next.access_token)).toMatchObject({ client_id: CLIENT.client_id });
  });

  it('an /auth/token request without client_id: the fixed native client id tokenward-native', async () => {
    const email = await newAccount(t);
    const form = new URLSearchParams({ grant_type: 'password', username: email, password: PASSWORD });
    const response = await t.request('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(response.status).toBe(200);
    expect(await validate(((await response.json()) as { access_token: string }).access_token)).toMatchObject({
      client_id: 'tokenward-native',
    });
  });
});
