import type { TokenwardOptions } from '../../src/config.js';
import type { TokenwardDependencies } from '../../src/create-tokenward.js';
import { oidcRoutes } from '../../src/features/oidc-login/endpoints.js';
import { Browser, createTestInstance, type TestInstance } from '../support/instance.js';
import type { TestIdp } from './idp.js';

export const ORIGIN = 'http://localhost:3000';
export const CLIENT_ID = 'tokenward-test';
export const CLIENT_SECRET = 'tokenward-test-client-secret-0123456789';
/** Redirect URIs registered at the test provider for the provider names the tests configure. */
/** A plain-http deployment on a private network (`insecureHttp`). */
export const INSECURE_ORIGIN = 'http://app.internal:3000';
export const REDIRECT_URIS = [
  ...['test', 'other', 'linking', 'public'].map((name) => `${ORIGIN}/auth/oidc/${name}/callback`),
  `${INSECURE_ORIGIN}/auth/oidc/test/callback`,
];

/**
 * A Tokenward instance with the OIDC routes. Until `createTokenward` mounts them itself, they
 * are added here (routes added after creation still match in Hono); once it does, this adds nothing.
 */
export async function createOidcInstance(
  options: TokenwardOptions,
  deps: TokenwardDependencies = {},
): Promise<TestInstance> {
  const instance = await createTestInstance({ publicOrigin: ORIGIN, ...options }, { listen: false, ...deps });
  const mounted = instance.tw.app.routes.some((r) => r.path === '/auth/oidc/:provider/callback');
  if (!mounted) oidcRoutes(instance.tw.app, instance.tw.context);
  return instance;
}

/** `oidc.providers` entry for a provider served by `idp`. */
export function providerFor(idp: TestIdp, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...extra };
}

/** Path + query of an absolute URL on the Tokenward origin. */
export function pathOf(url: URL | string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export interface LoginResult {
  /** The callback response (302 on success). */
  callback: Response;
  /** The redirect the provider sent the browser to. */
  callbackUrl: URL;
}

/** Browser → `/auth/oidc/<provider>/login` → provider (signs in as `sub`) → callback. */
export async function oidcLogin(
  browser: Browser,
  idp: TestIdp,
  options: { sub: string; provider?: string; returnTo?: string },
  headers: Record<string, string> = {},
): Promise<LoginResult> {
  const provider = options.provider ?? 'test';
  const start = await browser.fetch(
    `/auth/oidc/${provider}/login?returnTo=${encodeURIComponent(options.returnTo ?? '/dashboard')}`,
    { headers },
  );
  if (start.status !== 302) throw new Error(`login start answered ${start.status}: ${await start.text()}`);
  const callbackUrl = await idp.authorize(start.headers.get('location') ?? '', { sub: options.sub });
  const callback = await browser.fetch(pathOf(callbackUrl), { headers });
  return { callback, callbackUrl };
}

export { Browser };

/** The JSON shapes the OIDC tests read (problem details, `/auth/me`). */
export interface Json {
  code?: string;
  user: { id: string; email: string; emailVerified: boolean; name: string | null };
  session: { id: string };
  sessions: Array<{ id: string; current: boolean; newDevice: boolean }>;
  events: Array<{ type: string }>;
}

/** A response body as {@link Json}. */
export async function json(response: Response): Promise<Json> {
  return (await response.json()) as Json;
}
