import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressApp } from '../../examples/express.js';
import { createFastifyApp } from '../../examples/fastify.js';
import { createHonoApp } from '../../examples/hono.js';
import { createNodeListener } from '../../examples/node.js';
import { createTokenward, type Tokenward } from '../../src/create-tokenward.js';
import { createDpopKey, createProof } from '../support/dpop.js';
import { Browser, parseSetCookies, signup } from '../support/instance.js';

/**
 * The HTTP conformance subset (API.md) once per framework adapter, each on a real listening
 * server built from `examples/<framework>.ts`: the adapters must give the same answers as
 * `tw.app` itself, byte for byte where API.md says so.
 */
const ORIGIN = 'http://localhost:3000';
const PASSWORD = 'correct horse battery staple';

interface Running {
  url: string;
  tw: Tokenward;
  close: () => Promise<void>;
}

function listening(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}
const closing = (server: { close: (cb: () => void) => unknown }) =>
  new Promise<void>((resolve) => server.close(() => resolve()));

const ADAPTERS: Record<string, (tw: Tokenward) => Promise<{ url: string; stop: () => Promise<void> }>> = {
  node: async (tw) => {
    const server = createServer(createNodeListener(tw));
    return { url: await listening(server), stop: () => closing(server) };
  },
  express: async (tw) => {
    const server = createServer(createExpressApp(tw));
    return { url: await listening(server), stop: () => closing(server) };
  },
  fastify: async (tw) => {
    const app = await createFastifyApp(tw);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, stop: () => app.close() };
  },
  hono: async (tw) => {
    const app = createHonoApp(tw);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => closing(server) };
  },
};

async function start(adapter: string): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), `tokenward-${adapter}-`));
  const tw = await createTokenward({
    publicOrigin: ORIGIN,
    dataDir,
    logLevel: 'silent',
    limitLoginPerIp: '100000/1m',
    limitSignupPerIp: '100000/1m',
  });
  const { url, stop } = await (
    ADAPTERS[adapter] as (tw: Tokenward) => Promise<{ url: string; stop: () => Promise<void> }>
  )(tw);
  return {
    url,
    tw,
    close: async () => {
      await stop();
      await tw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function problem(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const text = await res.text();
  expect(JSON.parse(text).code).toBe(code);
  return text;
}

describe.each(Object.keys(ADAPTERS))('adapter: %s', (adapter) => {
  let s: Running;
  const send = (path: string, init: RequestInit = {}) => fetch(`${s.url}${path}`, { ...init, redirect: 'manual' });
  const browser = () => new Browser(send);

  beforeAll(async () => {
    s = await start(adapter);
  });
  afterAll(async () => {
    await s.close();
  });

  it('signup: 201 {user, session}, the session cookies with their attributes, no-store, security headers', async () => {
    const { response } = await signup(browser());
    expect(response.status).toBe(201);
    const body = (await response.json()) as { user: Record<string, unknown>; session: Record<string, unknown> };
    expect(Object.keys(body.session).sort()).toEqual(['accessExpiresAt', 'createdAt', 'expiresAt', 'id']);
    const cookies = parseSetCookies(response);
    expect([...cookies.keys()].sort()).toEqual(['__Host-tw_at', '__Host-tw_csrf', '__Host-tw_dev', '__Secure-tw_rt']);
    expect(cookies.get('__Secure-tw_rt')?.attributes.get('path')).toBe('/auth');
    expect(cookies.get('__Host-tw_at')?.attributes.get('httponly')).toBe(true);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('login, /auth/me and a guarded app route (session from the framework idiom)', async () => {
    const { email } = await signup(browser());
    const b = browser();
    const login = await b.fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const sessionId = ((await login.json()) as { session: { id: string } }).session.id;
    const me = await b.fetch('/auth/me');
    expect(((await me.json()) as { session: { id: string } }).session.id).toBe(sessionId);
    const profile = await b.fetch('/api/profile');
    expect(profile.status).toBe(200);
    expect(((await profile.json()) as { user: { email: string } }).user.email).toBe(email);
  });

  it('the client IP reaches Tokenward as the socket address', async () => {
    const b = browser();
    await signup(b);
    const res = await b.fetch('/auth/sessions');
    expect(res.status).toBe(200);
    const sessions = ((await res.json()) as { sessions: Array<{ ip: string; current: boolean }> }).sessions;
    expect(sessions.find((x) => x.current)?.ip).toBe('127.0.0.1');
  });

  it('refresh rotates the refresh cookie; reuse of the old one after rotation is refused', async () => {
    const b = browser();
    await signup(b);
    const before = b.cookies.get('__Secure-tw_rt');
    const res = await b.fetch('/auth/refresh', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(b.cookies.get('__Secure-tw_rt')).not.toBe(before);
    expect((await b.fetch('/api/profile')).status).toBe(200);
  });

  it('logout: 204, every session cookie cleared, Clear-Site-Data; the old access token then fails with invalid_token', async () => {
    const b = browser();
    await signup(b);
    const old = b.cookieHeader();
    const res = await b.fetch('/auth/logout', { method: 'POST' });
    expect(res.status).toBe(204);
    expect(res.headers.get('clear-site-data')).toBe('"cache", "storage"');
    const cleared = parseSetCookies(res);
    for (const name of ['__Host-tw_at', '__Secure-tw_rt', '__Host-tw_csrf', '__Host-tw_su'])
      expect(cleared.get(name)?.attributes.get('max-age'), name).toBe('0');
    const replay = await send('/api/profile', { headers: { cookie: old } });
    await problem(replay.clone(), 401, 'invalid_token');
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('a guarded route without a token: 401 unauthenticated with a bare Bearer challenge, Tokenward security headers', async () => {
    const res = await send('/api/profile');
    await problem(res.clone(), 401, 'unauthenticated');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+"$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('CSRF: a cross-site cookie POST is 403 and changes nothing; same-origin passes; Bearer without cookies is exempt', async () => {
    const b = browser();
    await signup(b);
    const cross = await send('/api/notes', {
      method: 'POST',
      headers: {
        cookie: b.cookieHeader(),
        'content-type': 'application/json',
        'sec-fetch-site': 'cross-site',
        origin: 'https://evil.example',
      },
      body: '{"text":"x"}',
    });
    await problem(cross, 403, 'csrf_rejected');
    expect(((await (await b.fetch('/api/notes')).json()) as { notes: unknown[] }).notes).toHaveLength(0);
    expect((await b.fetch('/api/notes', { method: 'POST', json: { text: 'mine' } })).status).toBe(201);
    const token = b.cookies.get('__Host-tw_at') as string;
    const bearer = await send('/api/notes', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' },
      body: '{"text":"api"}',
    });
    expect(bearer.status).toBe(201);
  });

  it('problem+json: 404 under /auth, 405 with Allow, identical bodies for identical failures', async () => {
    await problem(await send('/auth/nope'), 404, 'not_found');
    const na = await send('/auth/login');
    expect(na.headers.get('allow')).toBe('POST');
    await problem(na, 405, 'method_not_allowed');
    const login = (email: string) =>
      send('/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ email, password: 'wrong password!' }),
      });
    expect(await problem(await login('nobody@example.com'), 401, 'invalid_credentials')).toBe(
      await problem(await login('nobody@example.com'), 401, 'invalid_credentials'),
    );
  });

  it('bodies: 415 for other content types, 400 for malformed JSON, 413 over 64 KiB (answer delivered on the same server)', async () => {
    const post = (body: string, type?: string) =>
      send('/auth/login', {
        method: 'POST',
        headers: { 'sec-fetch-site': 'same-origin', ...(type ? { 'content-type': type } : {}) },
        body,
      });
    await problem(await post('{}', 'text/plain'), 415, 'unsupported_media_type');
    await problem(await post('email=a', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    await problem(await post('{"email":', 'application/json'), 400, 'invalid_request');
    await problem(
      await post(JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(200_000) }), 'application/json'),
      413,
      'payload_too_large',
    );
    // The server still answers afterwards.
    expect((await send('/auth/me')).status).toBe(401);
  });

  it('JWKS is public and cacheable', async () => {
    const res = await send('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
  });

  it('native client: POST /auth/token with DPoP, then the guarded route with Authorization: DPoP + proof; Bearer is refused', async () => {
    const { email } = await signup(browser());
    const key = await createDpopKey('ES256');
    const tokenRes = await send('/auth/token', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await createProof(key, { htm: 'POST', htu: `${ORIGIN}/auth/token` }),
      },
      body: new URLSearchParams({ grant_type: 'password', username: email, password: PASSWORD }).toString(),
    });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.headers.get('cache-control')).toBe('no-store');
    const tokens = (await tokenRes.json()) as { access_token: string; token_type: string };
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    const ok = await send('/api/profile?tab=1', {
      headers: {
        authorization: `DPoP ${tokens.access_token}`,
        dpop: await createProof(key, { htm: 'GET', htu: `${ORIGIN}/api/profile`, accessToken: tokens.access_token }),
      },
    });
    expect(ok.status).toBe(200);
    const downgraded = await send('/api/profile', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await problem(downgraded.clone(), 401, 'invalid_token');
    expect(downgraded.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });

  it('step-up: requireStepUp answers the RFC 9470 challenge, passes once with a grant, and clears the consumed grant', async () => {
    const b = browser();
    await signup(b);
    const denied = await b.fetch('/api/transfer', { method: 'POST', json: { amount: 1, to: 'x' } });
    await problem(denied.clone(), 401, 'step_up_required');
    expect(denied.headers.get('www-authenticate')).toContain('error="insufficient_user_authentication"');
    const stepUp = await b.fetch('/auth/step-up', { method: 'POST', json: { password: PASSWORD } });
    expect(stepUp.status).toBe(200);
    const grant = b.cookies.get('__Host-tw_su') as string;
    expect(grant).toBeTruthy();
    const cookieWithGrant = b.cookieHeader();
    const passed = await b.fetch('/api/transfer', { method: 'POST', json: { amount: 1, to: 'x' } });
    expect(passed.status).toBe(200);
    expect(parseSetCookies(passed).get('__Host-tw_su')?.attributes.get('max-age')).toBe('0');
    const again = await send('/api/transfer', {
      method: 'POST',
      headers: { cookie: cookieWithGrant, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: '{"amount":1,"to":"x"}',
    });
    await problem(again, 401, 'step_up_required');
  });

  it("routes that are not Tokenward's stay the app's", async () => {
    const res = await send('/api/ping');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
