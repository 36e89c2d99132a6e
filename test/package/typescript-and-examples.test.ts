/**
 * The package in a strict TypeScript app, as a user writes one: the adapter examples
 * (examples/*.ts, which import only `tokenward/*`) and a file touching every entry point
 * typecheck with `moduleResolution` `nodenext` and `bundler`; then the nodenext build of each
 * example runs against the installed tarball: signup, a protected route, the CSRF rule on a
 * state-changing route, logout.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/pack.mjs';
import { type ConsumerApp, consumerApp, runIn, startInBackground, workDir } from '../support/package.js';

let app: ConsumerApp;
let dir: string;
let nodenextBuild: ReturnType<typeof runIn> | undefined;
/** `tsc -p tsconfig.nodenext.json` (typecheck and emit to out/), run once. */
const buildNodenext = () =>
  (nodenextBuild ??= runIn(dir, join(app.dir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.nodenext.json']));

const STRICT = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  target: 'ES2022',
  lib: ['ES2023', 'DOM'],
  types: ['node'],
};

/** Every entry point, used the way its docs show (types and values). */
const ENTRIES_TS = `import { createTokenward, type Tokenward, TokenwardError } from 'tokenward';
import { createClient, type AuthState, TokenwardClientError } from 'tokenward/client';
import { createVerifier, type VerifiedAccessToken } from 'tokenward/verify';
import { tokenwardExpress } from 'tokenward/express';
import { tokenwardFastify } from 'tokenward/fastify';
import { tokenwardHono } from 'tokenward/hono';
import { tokenwardNode } from 'tokenward/node';
import { TokenwardProvider, useAuth, useSession, type Auth } from 'tokenward/react';
import { createNextAuth, type NextAuth } from 'tokenward/next';
import { createAuthMiddleware } from 'tokenward/next/middleware';
import { ERRORS } from 'tokenward/errors';

export async function everything(): Promise<void> {
  const tw: Tokenward = await createTokenward({ publicOrigin: 'http://localhost:3000' }, { env: process.env });
  const express = tokenwardExpress(tw);
  const hono = tokenwardHono(tw);
  const node = tokenwardNode(tw);
  void [express.routes, hono.routes(), node.listener, tokenwardFastify, ERRORS, TokenwardError];
  const verifier = createVerifier({ issuer: tw.config.publicOrigin, audience: tw.config.publicOrigin, jwksUrl: 'http://localhost:3000/.well-known/jwks.json' });
  const claims: VerifiedAccessToken = await verifier.verify('a.b.c');
  const next: NextAuth = createNextAuth({ options: { publicOrigin: tw.config.publicOrigin }, loginPath: '/login' });
  const middleware = createAuthMiddleware({ issuer: 'http://localhost:3000' });
  const state: AuthState = createClient().state();
  const hooks: [typeof TokenwardProvider, typeof useSession, () => Auth] = [TokenwardProvider, useSession, useAuth];
  void [claims.sub, next.handlers.GET, middleware, state.status, hooks, TokenwardClientError];
}
`;

beforeAll(async () => {
  app = await consumerApp();
  dir = workDir(app, 'typescript');
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), {
    recursive: true,
    filter: (src) => !src.includes(`${join('examples', 'next')}`),
  });
  writeFileSync(join(dir, 'entries.ts'), ENTRIES_TS);
  const include = ['examples/*.ts', 'entries.ts'];
  writeFileSync(
    join(dir, 'tsconfig.nodenext.json'),
    JSON.stringify({
      compilerOptions: { ...STRICT, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' },
      include,
    }),
  );
  // The declaration files themselves are checked once (nodenext, skipLibCheck off); the bundler
  // pass checks how the app's imports resolve and type, which is what differs.
  writeFileSync(
    join(dir, 'tsconfig.bundler.json'),
    JSON.stringify({
      compilerOptions: { ...STRICT, skipLibCheck: true, module: 'esnext', moduleResolution: 'bundler', noEmit: true },
      include,
    }),
  );
}, 600_000);

describe('package › TypeScript (strict) against the installed tarball', { timeout: 120_000 }, () => {
  for (const resolution of ['nodenext', 'bundler']) {
    it(`typechecks the examples and every entry point with moduleResolution ${resolution}`, async () => {
      const run =
        resolution === 'nodenext'
          ? await buildNodenext()
          : await runIn(dir, join(app.dir, 'node_modules/.bin/tsc'), ['-p', `tsconfig.${resolution}.json`]);
      expect(`${run.stdout}${run.stderr}`).toBe('');
      expect(run.code).toBe(0);
    });
  }
});

const EXAMPLES = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts') && f !== 'shared.ts');

describe('package › the adapter examples run against the installed tarball', { timeout: 120_000 }, () => {
  it('covers every adapter example', () => {
    expect(EXAMPLES.sort()).toEqual(['express.ts', 'fastify.ts', 'hono.ts', 'node.ts']);
  });

  for (const example of EXAMPLES) {
    it(`examples/${example}: signup, protected route, CSRF rule, logout`, async () => {
      const out = join(dir, 'out/examples', example.replace(/\.ts$/, '.js'));
      const built = await buildNodenext();
      expect(built.code, built.stdout).toBe(0);
      const server = await startInBackground(dir, process.execPath, [out], {
        readyPath: '/api/ping',
        env: { TOKENWARD_DATA_DIR: join(dir, `.tokenward-${example}`), TOKENWARD_LOG_LEVEL: 'warn' },
      });
      try {
        const origin = `http://localhost:${server.port}`;
        const signup = await fetch(`${server.url}/auth/signup`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: origin },
          body: JSON.stringify({ email: `ada-${example}@example.com`, password: 'correct horse battery staple' }),
        });
        expect(signup.status).toBe(201);
        const cookie = signup.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; ');
        expect(cookie).toMatch(/__Host-tw_at=/);
        const profile = await fetch(`${server.url}/api/profile`, { headers: { Cookie: cookie } });
        expect(profile.status).toBe(200);
        expect(await profile.json()).toMatchObject({ user: { email: `ada-${example}@example.com` } });
        expect((await fetch(`${server.url}/api/profile`)).status).toBe(401);
        const note = (headers: Record<string, string>) =>
          fetch(`${server.url}/api/notes`, {
            method: 'POST',
            headers: { Cookie: cookie, 'Content-Type': 'application/json', ...headers },
            body: '{"text":"hi"}',
          });
        const forged = await note({});
        expect(forged.status).toBe(403);
        expect(await forged.json()).toMatchObject({ code: 'csrf_rejected' });
        expect((await note({ Origin: origin })).status).toBe(201);
        const logout = await fetch(`${server.url}/auth/logout`, {
          method: 'POST',
          headers: { Cookie: cookie, Origin: origin },
        });
        expect(logout.status).toBe(204);
      } finally {
        await server.stop();
      }
    });
  }
});
