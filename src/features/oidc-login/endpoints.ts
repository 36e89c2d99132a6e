import type { Context, Hono } from 'hono';
import type { CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { isTokenwardError, TokenwardError } from '../../errors.js';
import { sha256, timingSafeEqualStrings } from '../../kernel/crypto/encoding.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { readCookie } from '../../server/cookies.js';
import { type AnyEndpoint, defineEndpoint, mountEndpoints } from '../../server/define-endpoint.js';
import { errorResponse } from '../../server/http.js';
import { setPendingLoginCookie } from '../../server/pending-login-cookie.js';
import { requestContext } from '../../server/request-context.js';
import { setSessionCookies } from '../../server/session-cookies.js';
import { resolveFederatedAccount } from './account-linking.js';
import { OIDC_LOGIN_TTL_SEC, openLoginState, sealLoginState } from './login-state.js';
import type { OidcConfig } from './options.js';
import { type FederatedIdentity, OidcProviderClient, ProviderError } from './provider-client.js';
import { parseReturnTo, withQuery } from './return-to.js';

/**
 * RFC 8176 method values passed through from the provider's `amr` (others are dropped, so a
 * provider cannot put arbitrary strings into Tokenward's access tokens).
 */
const AMR_VALUES = new Set([
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
]);

/** Query parameter added to `returnTo` when a federated login ends without a session (docs/oidc.md): `oidc_…` codes, or `access_denied`. */
export const OIDC_ERROR_PARAM = 'error';
/** Query parameter added to `returnTo` when the account needs its second factor (`POST {basePath}/login/totp`). */
export const OIDC_MFA_PARAM = 'mfa';

/** The resolved `oidc` slice of the configuration. */
function oidcConfig(ctx: ServerContext): OidcConfig {
  return ctx.config.oidc as OidcConfig;
}

/**
 * Mounts the OIDC login endpoints on an app (createTokenward does this when providers are configured).
 *
 * @example
 * ```ts
 * oidcRoutes(app, ctx);
 * ```
 */
export function oidcRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  mountEndpoints(app, ctx, oidcEndpoints(ctx));
}

/**
 * `GET {basePath}/oidc/:provider/login?returnTo=/path` and `GET {basePath}/oidc/:provider/callback`:
 * backend-driven OpenID Connect login (authorization code flow with PKCE S256, state and nonce
 * sealed in the browser's `tw_oidc` cookie). Providers come from the `oidc` option; an unknown
 * provider is 404. See docs/oidc.md.
 */
export function oidcEndpoints(ctx: ServerContext): AnyEndpoint[] {
  const config = oidcConfig(ctx);
  const clients = new Map<string, OidcProviderClient>();
  for (const [name, provider] of Object.entries(config.providers)) {
    clients.set(
      name,
      new OidcProviderClient(provider, {
        redirectUri: callbackUrl(ctx, name),
        timeoutMs: config.timeoutMs,
        now: () => ctx.clock.now(),
      }),
    );
  }
  let stateKey: Promise<CryptoKey> | undefined;
  const key = (): Promise<CryptoKey> => {
    stateKey ??= ctx.deriveKey('seal', 'oidc-login');
    return stateKey;
  };
  const clientFor = (c: Context<TokenwardEnv>): { name: string; client: OidcProviderClient } => {
    const name = c.req.param('provider') ?? '';
    const client = clients.get(name);
    if (client === undefined) throw new TokenwardError('not_found');
    return { name, client };
  };

  const start = defineEndpoint(
    { method: 'GET', path: '/oidc/:provider/login', guard: 'none', body: 'none' },
    async ({ c, rc }) => {
      const { name, client } = clientFor(c);
      const returnToParam = c.req.query('returnTo');
      const returnTo = parseReturnTo(returnToParam ?? '/', ctx.config.publicOrigin);
      if (returnTo === null) throw new TokenwardError('invalid_return_to');
      // Each start may cost a discovery and a provider round trip: the login rate limit per IP applies.
      await enforceIpLimit(ctx.limiter, 'oidc', rc.ip, ctx.config.limits.loginPerIp, ctx.config.limits);

      const checks = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
      };
      const authorizationUrl = await client.authorizationUrl(checks).catch((error: unknown) => {
        logProviderError(ctx, name, error);
        throw error;
      });
      const sealed = await sealLoginState(await key(), {
        provider: name,
        ...checks,
        returnTo,
        expiresAt: ctx.clock.now() + OIDC_LOGIN_TTL_SEC * 1000,
      });
      // One login in flight per browser: a new start replaces the previous state.
      c.header('Set-Cookie', ctx.cookies.serialize('oidc', sealed, OIDC_LOGIN_TTL_SEC), { append: true });
      return c.redirect(authorizationUrl.href, 302);
    },
  );

  const callback = defineEndpoint(
    { method: 'GET', path: '/oidc/:provider/callback', guard: 'none', body: 'none' },
    async ({ c }) => {
      const { name, client } = clientFor(c);
      // Single use: whatever happens next, the browser's login state is gone after this request.
      const clear = ctx.cookies.clear('oidc');
      try {
        const response = await completeCallback(ctx, c, name, client, await key());
        response.headers.append('Set-Cookie', clear);
        return response;
      } catch (error) {
        if (!isTokenwardError(error)) throw error;
        logProviderError(ctx, name, error);
        const response = errorResponse(error);
        response.headers.append('Set-Cookie', clear);
        return response;
      }
    },
  );

  return [start, callback];
}

/** Provider failures are answered with a bare 502; the reason goes to the log (never a token or code). */
function logProviderError(ctx: ServerContext, provider: string, error: unknown): void {
  if (error instanceof ProviderError && error.reason !== 'access_denied') {
    ctx.logger.warn(
      { provider, reason: error.reason, err: (error.cause as Error | undefined)?.message },
      'oidc provider error',
    );
  }
}

/**
 * The redirect URI to register at a provider: `{publicOrigin}{basePath}/oidc/<name>/callback`.
 *
 * @example
 * ```ts
 * callbackUrl(tw.context, 'google'); // 'https://app.example.com/auth/oidc/google/callback'
 * ```
 */
export function callbackUrl(ctx: Pick<ServerContext, 'config'>, providerName: string): string {
  return `${ctx.config.publicOrigin}${ctx.config.basePath}/oidc/${providerName}/callback`;
}

async function completeCallback(
  ctx: ServerContext,
  c: Context<TokenwardEnv>,
  name: string,
  client: OidcProviderClient,
  key: CryptoKey,
): Promise<Response> {
  const login = await openLoginState(
    key,
    readCookie(c.req.header('cookie'), ctx.cookies.name('oidc')),
    ctx.clock.now(),
  );
  const state = c.req.query('state');
  // Login CSRF: the response must come back to the browser that started this login; a code
  // injected into another browser's callback fails here (no cookie, or another state).
  if (
    login === null ||
    login.provider !== name ||
    state === undefined ||
    !(await timingSafeEqualStrings(state, login.state))
  ) {
    throw new TokenwardError('oidc_state_mismatch');
  }
  // A copy of the cookie replayed after its first callback is refused (the cookie is also cleared).
  if (!(await ctx.limiter.claimOnce(`oidc:state:${await sha256(login.state)}`, OIDC_LOGIN_TTL_SEC))) {
    throw new TokenwardError('oidc_state_mismatch');
  }
  // A request the login gates refuse outright (an unsupported browser) creates or links no account.
  await ctx.kernel.checkLoginRequest(requestContext(ctx, c));
  const currentUrl = new URL(callbackUrl(ctx, name));
  currentUrl.search = new URL(c.req.url).search;
  let identity: FederatedIdentity;
  try {
    identity = await client.completeLogin(currentUrl, login);
  } catch (error) {
    // A user who cancels at the provider goes back to the app (API.md), which can say so; any
    // other `error=` response stays 502. The state matched above, so this redirect only answers
    // a login this browser started, to the returnTo sealed in its own cookie.
    if (!(error instanceof ProviderError) || error.reason !== 'access_denied') throw error;
    ctx.logger.info({ provider: name }, 'oidc login cancelled at the provider');
    return c.redirect(withQuery(login.returnTo, OIDC_ERROR_PARAM, 'access_denied'), 302);
  }

  const outcome = await resolveFederatedAccount(
    { store: ctx.store, hasher: ctx.kernel.hasher, clock: ctx.clock },
    identity,
    { linkVerifiedEmail: oidcConfig(ctx).providers[name]?.linkVerifiedEmail ?? false },
  );
  const rc = requestContext(ctx, c);
  if (outcome.kind === 'refused') {
    ctx.logger.info({ provider: name, reason: outcome.reason }, 'oidc login refused');
    return c.redirect(withQuery(login.returnTo, OIDC_ERROR_PARAM, `oidc_${outcome.reason}`), 302);
  }
  const { user, via } = outcome;
  if (via !== 'linked') {
    await ctx.kernel.recordEvent({
      type: via === 'signup' ? 'user.signup' : 'oidc.linked',
      userId: user.id,
      ip: rc.ip,
      sessionId: null,
      userAgent: rc.userAgent,
      data: {
        provider: name,
        issuer: identity.issuer,
        ...(via === 'verified_email' ? { method: 'verified_email' } : {}),
      },
    });
  }
  const amr = ['fed', ...identity.amr.filter((m) => AMR_VALUES.has(m))].slice(0, 4);
  // The account's own second factor still applies (even when the provider says "mfa"): the provider proved the first one only.
  const finished = await ctx.kernel.finishLogin(user, [...new Set(amr)], rc, { detectNewDevice: via !== 'signup' });
  if (finished.kind === 'second_factor') {
    await setPendingLoginCookie(ctx, c, user.id, finished.amr);
    return c.redirect(withQuery(login.returnTo, OIDC_MFA_PARAM, 'required'), 302);
  }
  setSessionCookies(ctx, c, finished.issued, rc.deviceId);
  return c.redirect(login.returnTo, 302);
}
