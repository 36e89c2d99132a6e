import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ProviderContext } from 'oidc-provider';

/** A user the test identity provider knows (the login form accepts any password). */
export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface IdpClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
}

/** A real OpenID Provider (oidc-provider) on a free loopback port, driven without a browser. */
export interface TestIdp {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  /** The provider's signing key (private JWK), for tests that forge ID tokens with the real key. */
  signingJwk: JWK;
  accounts: Map<string, IdpAccount>;
  /** Rewrites the `id_token` of the next token responses (null: leave them alone). */
  tamperIdToken: ((idToken: string) => Promise<string>) | null;
  /** Token endpoint requests seen (to assert a code was or was not redeemed). */
  tokenRequests: number;
  /**
   * Plays the user at the provider: follows the authorization URL, signs in as `sub` (dev
   * interactions: any password) and consents, or aborts (`abort: true` → `error=access_denied`).
   * Returns the redirect to the client's `redirect_uri` (with `code`/`error`, `state`, `iss`).
   */
  authorize: (authorizationUrl: string, options: { sub: string; abort?: boolean }) => Promise<URL>;
  close: () => Promise<void>;
}

/** Starts an oidc-provider with dev interactions, the given clients, and an RS256 key. */
export async function startIdp(options: { clients: IdpClient[] }, port = 0): Promise<TestIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, IdpAccount>();

  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.client_secret === undefined ? 'none' : 'client_secret_basic',
    })),
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: async (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      if (account === undefined) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
  });
  // oidc-provider logs expected client errors through events only; keep the test output quiet.
  provider.on('server_error', (_ctx: unknown, error: unknown) => console.error('idp server_error', error));

  const idp: TestIdp = {
    issuer,
    signingJwk,
    accounts,
    tamperIdToken: null,
    tokenRequests: 0,
    authorize: (url, opts) => authorize(issuer, url, opts),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  provider.use(async (ctx: ProviderContext, next: () => Promise<void>) => {
    if (ctx.path === '/token') idp.tokenRequests++;
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (
      ctx.path === '/token' &&
      idp.tamperIdToken !== null &&
      body !== undefined &&
      typeof body.id_token === 'string'
    ) {
      body.id_token = await idp.tamperIdToken(body.id_token);
    }
  });
  server.on('request', provider.callback());
  return idp;
}

/** Follows the provider's pages like a browser with its own cookie jar. */
async function authorize(
  issuer: string,
  authorizationUrl: string,
  options: { sub: string; abort?: boolean },
): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  let init: { method: string; body?: URLSearchParams } = { method: 'GET' };
  for (let step = 0; step < 20; step++) {
    const headers: Record<string, string> = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const raw of response.headers.getSetCookie()) {
      const [pair = ''] = raw.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(raw)) jar.delete(name);
      else jar.set(name, value);
    }
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location') ?? '', url);
      await response.body?.cancel();
      if (next.origin !== issuer) return next;
      url = next.href;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    if (response.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
      if (options.abort) {
        url = `${url.replace(/\/$/, '')}/abort`;
        init = { method: 'GET' };
      } else if (html.includes('name="prompt" value="consent"')) {
        init = { method: 'POST', body: new URLSearchParams({ prompt: 'consent' }) };
      } else {
        init = { method: 'POST', body: new URLSearchParams({ prompt: 'login', login: options.sub, password: 'any' }) };
      }
      continue;
    }
    throw new Error(`unexpected identity provider response ${response.status} at ${url}: ${html.slice(0, 500)}`);
  }
  throw new Error('too many steps at the identity provider');
}
