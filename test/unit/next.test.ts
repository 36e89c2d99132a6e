/**
 * tokenward/next's Node side (`nextRuntime`: route handlers, session reading, route-handler
 * guards, one instance per process) and `tokenward/next/middleware` (edge: local verification
 * against the JWKS, redirect to login), on a real Tokenward with an embedded store. The whole
 * thing inside a real Next.js app is test/next/next-app.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthMiddleware } from '../../src/next/middleware.js';
import { type NextRuntime, nextRuntime } from '../../src/next/node.js';

const ORIGIN = 'http://localhost:3000';
const PASSWORD = 'correct horse battery staple';
const dirs: string[] = [];
let counter = 0;

function runtime(options: Record<string, unknown> = {}): NextRuntime {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-next-unit-'));
  dirs.push(dataDir);
  counter += 1;
  return nextRuntime({
    options: {
      publicOrigin: ORIGIN,
      dataDir,
      logLevel: 'silent',
      limitLoginPerIp: '100000/1m',
      limitSignupPerIp: '100000/1m',
      ...options,
    },
    instanceKey: `unit-${process.pid}-${counter}`,
  });
}

/** Signs a user up through the route handler; returns the Cookie header of the session. */
async function signUp(rt: NextRuntime, email = `u${++counter}@example.com`): Promise<string> {
  const origin = (await rt.instance()).config.publicOrigin;
  const res = await rt.handlers.POST(
    new Request(`${origin}/auth/signup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: origin },
      body: JSON.stringify({ email, password: PASSWORD }),
    }),
  );
  expect(res.status).toBe(201);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

const accessToken = (cookie: string): string => /__Host-tw_at=([^;]+)/.exec(cookie)?.[1] ?? '';

let rt: NextRuntime;
beforeAll(() => {
  rt = runtime();
});
afterAll(async () => {
  for (const r of [rt]) await (await r.instance()).close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('tokenward/next › route handlers', () => {
  it('answer Tokenward routes like tw.fetch: signup with cookies, 404 problem+json for an unknown path, 405 with Allow', async () => {
    const cookie = await signUp(rt);
    expect(cookie).toMatch(/__Host-tw_at=.+; __Secure-tw_rt=twr_/);
    const unknown = await rt.handlers.GET(new Request(`${ORIGIN}/auth/nope`));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    const wrongMethod = await rt.handlers.GET(new Request(`${ORIGIN}/auth/login`));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const jwks = await rt.handlers.GET(new Request(`${ORIGIN}/.well-known/jwks.json`));
    expect((await jwks.json()) as { keys: unknown[] }).toMatchObject({
      keys: [expect.objectContaining({ kty: 'OKP' })],
    });
  });

  it('share one Tokenward instance per process and instanceKey (Next evaluates lib/auth once per layer)', async () => {
    const again = nextRuntime({ instanceKey: `unit-${process.pid}-1` });
    expect(await again.instance()).toBe(await rt.instance());
  });
});

describe('tokenward/next › sessionFromHeaders (server components)', () => {
  it('a valid access cookie or Bearer token gives the session', async () => {
    const cookie = await signUp(rt);
    const fromCookie = await rt.sessionFromHeaders(new Headers({ cookie }));
    expect(fromCookie).toMatchObject({ userId: expect.any(String), sessionId: expect.any(String), via: 'cookie' });
    const fromBearer = await rt.sessionFromHeaders(new Headers({ authorization: `Bearer ${accessToken(cookie)}` }));
    expect(fromBearer?.sessionId).toBe(fromCookie?.sessionId);
  });

  it('no token, a tampered token, or a logged-out session give null', async () => {
    const cookie = await signUp(rt);
    expect(await rt.sessionFromHeaders(new Headers())).toBeNull();
    const token = accessToken(cookie);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await rt.sessionFromHeaders(new Headers({ cookie: `__Host-tw_at=${tampered}` }))).toBeNull();
    const logout = await rt.handlers.POST(
      new Request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie, Origin: ORIGIN } }),
    );
    expect(logout.status).toBe(204);
    expect(await rt.sessionFromHeaders(new Headers({ cookie }))).toBeNull();
  });
});

describe('tokenward/next › withSession / withStepUp (route handlers)', () => {
  it('withSession: the CSRF rule refuses a cookie POST from another site before the handler runs', async () => {
    const cookie = await signUp(rt);
    let runs = 0;
    const handler = rt.withSession(async (_request, session) => {
      runs += 1;
      return Response.json({ userId: session.userId }, { status: 201 });
    });
    const post = (origin: string) =>
      handler(new Request(`${ORIGIN}/api/notes`, { method: 'POST', headers: { cookie, Origin: origin } }), {});
    const forged = await post('https://evil.example');
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: 'csrf_rejected' });
    expect(runs).toBe(0);
    const own = await post(ORIGIN);
    expect(own.status).toBe(201);
    expect(runs).toBe(1);
    const anonymous = await handler(new Request(`${ORIGIN}/api/notes`), {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('withStepUp: 401 step_up_required without a grant; a failed answer gives the grant back, a 2xx consumes it and clears its cookie', async () => {
    const cookie = await signUp(rt);
    let status = 400;
    const handler = rt.withStepUp(async () => new Response(null, { status }));
    const call = (extra = '') =>
      handler(
        new Request(`${ORIGIN}/api/transfer`, {
          method: 'POST',
          headers: { cookie: `${cookie}${extra}`, Origin: ORIGIN },
        }),
        {},
      );
    const refused = await call();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'step_up_required' });
    const stepUp = await rt.handlers.POST(
      new Request(`${ORIGIN}/auth/step-up`, {
        method: 'POST',
        headers: { cookie, Origin: ORIGIN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ password: PASSWORD }),
      }),
    );
    expect(stepUp.status).toBe(200);
    const grant = `; ${stepUp.headers.getSetCookie()[0]?.split(';')[0]}`;
    expect((await call(grant)).status).toBe(400); // the grant is given back
    status = 200;
    const done = await call(grant);
    expect(done.status).toBe(200);
    expect(done.headers.getSetCookie().join()).toMatch(/__Host-tw_su=;.*Max-Age=0/);
    expect((await call(grant)).status).toBe(401); // single use
  });
});

describe('tokenward/next/middleware (edge)', () => {
  const jwksFetch = (input: string, init: RequestInit) => rt.handlers.GET(new Request(input, init));
  const middleware = createAuthMiddleware({ issuer: ORIGIN, verifier: { fetch: jwksFetch } });
  const visit = (headers: Record<string, string> = {}) =>
    middleware(new Request(`${ORIGIN}/dashboard?tab=2`, { headers }));

  it('lets a request with a valid access cookie through', async () => {
    const cookie = await signUp(rt);
    expect(await visit({ cookie })).toBeUndefined();
  });

  it('redirects to the login page with returnTo (path and query) when the token is missing, tampered or from another issuer', async () => {
    const cookie = await signUp(rt);
    const token = accessToken(cookie);
    const other = runtime({ publicOrigin: 'http://localhost:4000' });
    const foreign = await signUp(other);
    for (const headers of [
      {},
      { cookie: `__Host-tw_at=${token.slice(0, -2)}xx` },
      { cookie: foreign },
      { cookie: `tw_at=${token}` },
    ]) {
      const res = await visit(headers);
      expect(res?.status, JSON.stringify(headers)).toBe(307);
      expect(res?.headers.get('location')).toBe(`${ORIGIN}/login?returnTo=%2Fdashboard%3Ftab%3D2`);
      expect(res?.headers.get('cache-control')).toBe('no-store');
    }
    await (await other.instance()).close();
  });

  it('reads split-mode cookies when told to', async () => {
    const split = runtime({ cookies: { split: true } });
    const cookie = await signUp(split);
    const splitMiddleware = createAuthMiddleware({
      issuer: ORIGIN,
      cookies: { split: true },
      verifier: { fetch: (input, init) => split.handlers.GET(new Request(input, init)) },
    });
    expect(await splitMiddleware(new Request(`${ORIGIN}/dashboard`, { headers: { cookie } }))).toBeUndefined();
    expect(
      (
        await createAuthMiddleware({ issuer: ORIGIN, verifier: { fetch: jwksFetch } })(
          new Request(`${ORIGIN}/dashboard`, { headers: { cookie } }),
        )
      )?.status,
    ).toBe(307);
    await (await split.instance()).close();
  });

  it('refuses a loginPath that is not a path on this site', () => {
    for (const loginPath of ['//evil.example', 'https://evil.example/login', 'login'])
      expect(() => createAuthMiddleware({ issuer: ORIGIN, loginPath })).toThrow(TypeError);
  });

  it('imports nothing but tokenward/verify (relative modules) and jose: no node:*, no next', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const seen = new Set<string>();
    const visitFile = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|\s)\/\/.*$/gm, '');
      for (const m of source.matchAll(
        /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]/g,
      )) {
        const spec = (m[1] ?? m[2]) as string;
        expect(spec.startsWith('.') || spec === 'jose', `${file} imports ${spec}`).toBe(true);
        if (spec.startsWith('.')) visitFile(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
      expect(source, file).not.toMatch(/\brequire\s*\(|node:|\bprocess\.|\bBuffer\b/);
    };
    visitFile(join(root, 'src/next/middleware.ts'));
    expect([...seen].some((f) => f.endsWith('src/verify/create-verifier.ts'))).toBe(true);
  });
});
