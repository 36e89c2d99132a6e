import * as oidc from 'openid-client';
import { TokenwardError } from '../../errors.js';
import type { OidcProviderConfig } from './options.js';

/** Default bound on every request to a provider (discovery, token, JWKS, userinfo). */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 5000;
/** Provider metadata is re-read after this long (keys rotate through JWKS, not through this). */
const DISCOVERY_TTL_MS = 24 * 3600_000;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What a completed authorization code grant tells about the user (claims validated by openid-client). */
export interface FederatedIdentity {
  /** `iss` of the validated ID token. */
  issuer: string;
  /** `sub` of the validated ID token. */
  subject: string;
  /** Lowercased as the provider sent it (not yet normalised), or null. */
  email: string | null;
  /** True only when the provider asserted `email_verified: true` for that email. */
  emailVerified: boolean;
  name: string | null;
  /** The provider's `amr` values (RFC 8176), if any. */
  amr: string[];
}

/** The checks a callback must pass: the values sealed in the browser's `tw_oidc` cookie. */
export interface CallbackChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * Why a provider interaction failed (for logs; the client sees 502 `oidc_provider_error`),
 * except `access_denied`: the user cancelled (or refused consent) at the provider, an ordinary
 * outcome the callback answers with a redirect to `returnTo?error=access_denied` (API.md).
 */
export type ProviderFailure = 'unreachable' | 'timeout' | 'invalid_response' | 'rejected' | 'access_denied';

/** A 502 `oidc_provider_error` carrying the reason for the log line. */
export class ProviderError extends TokenwardError {
  readonly reason: ProviderFailure;
  constructor(reason: ProviderFailure, cause: unknown) {
    super('oidc_provider_error', { cause });
    this.reason = reason;
  }
}

function classify(error: unknown): ProviderFailure {
  // RFC 6749 §4.1.2.1: the resource owner denied the request. openid-client raises it only after
  // the response's state (and RFC 9207 iss) checked out, so it really answers this login.
  if (error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied') return 'access_denied';
  const e = error as { name?: unknown; code?: unknown; cause?: { name?: unknown; code?: unknown } } | null;
  const names = [e?.name, e?.cause?.name];
  if (names.includes('TimeoutError') || names.includes('AbortError')) return 'timeout';
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) return 'rejected';
  if (error instanceof TypeError && e?.cause !== undefined) return 'unreachable';
  return 'invalid_response';
}

/**
 * One configured OpenID Provider, through `openid-client`: discovery on first use (cached,
 * shared by concurrent callers, retried after a failure), every request bounded by a timeout,
 * and the authorization code grant with PKCE (S256), state, nonce and full ID token validation
 * (`iss`, `aud`, `exp`, `iat`, `nonce`, signature and algorithm against the provider's JWKS).
 * Every provider failure becomes a {@link ProviderError} (502 `oidc_provider_error`).
 *
 * @example
 * ```ts
 * const idp = new OidcProviderClient(config.oidc.providers.google, { redirectUri: 'https://app.example.com/auth/oidc/google/callback' });
 * const url = await idp.authorizationUrl({ state, nonce, codeVerifier });
 * ```
 */
export class OidcProviderClient {
  readonly #provider: OidcProviderConfig;
  readonly #redirectUri: string;
  readonly #timeoutSec: number;
  readonly #now: () => number;
  #configuration: Promise<oidc.Configuration> | undefined;
  #discoveredAt = 0;

  constructor(provider: OidcProviderConfig, options: { redirectUri: string; timeoutMs?: number; now?: () => number }) {
    this.#provider = provider;
    this.#redirectUri = options.redirectUri;
    this.#timeoutSec = (options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS) / 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The discovered configuration (cached for a day; a failed discovery is retried by the next caller). */
  async configuration(): Promise<oidc.Configuration> {
    const now = this.#now();
    if (this.#configuration === undefined || now - this.#discoveredAt > DISCOVERY_TTL_MS) {
      this.#discoveredAt = now;
      const pending = this.#discover();
      this.#configuration = pending;
      pending.catch(() => {
        if (this.#configuration === pending) this.#configuration = undefined;
      });
    }
    return this.#configuration;
  }

  async #discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.#provider;
    const url = new URL(issuer);
    // Plain http only for a provider on this machine (tests, local IdPs); the option parser enforces it too.
    const insecure = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    try {
      return await oidc.discovery(
        url,
        clientId,
        { redirect_uris: [this.#redirectUri], response_types: ['code'] },
        clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret),
        {
          timeout: this.#timeoutSec,
          // openid-client skips the ID token signature check for token endpoint responses by
          // default (OIDC Core §3.1.3.7: TLS authenticates the endpoint). Checking it against the
          // provider's JWKS as well costs one cached JWKS fetch and no longer trusts the transport alone.
          execute: insecure
            ? [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks]
            : [oidc.enableNonRepudiationChecks],
        },
      );
    } catch (error) {
      throw new ProviderError(classify(error), error);
    }
  }

  /**
   * The provider's authorization URL for a new login: `response_type=code`, PKCE S256 from
   * `codeVerifier`, `state`, `nonce`, the configured scopes and the callback `redirect_uri`.
   */
  async authorizationUrl(checks: CallbackChecks): Promise<URL> {
    const configuration = await this.configuration();
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.#redirectUri,
      response_type: 'code',
      scope: this.#provider.scopes.join(' '),
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Validates the authorization response at `callbackUrl` (state, and the RFC 9207 `iss`
   * parameter when the provider sends it), redeems the code with the PKCE verifier, validates
   * the ID token (nonce included), and reads email and name from the ID token or, when it has
   * none, from the UserInfo endpoint (whose `sub` must match). An `error=` response throws a
   * {@link ProviderError}; its reason is `access_denied` when the user cancelled.
   */
  async completeLogin(callbackUrl: URL, checks: CallbackChecks): Promise<FederatedIdentity> {
    const configuration = await this.configuration();
    try {
      const tokens = await oidc.authorizationCodeGrant(
        configuration,
        callbackUrl,
        {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        },
        { redirect_uri: this.#redirectUri },
      );
      const claims = tokens.claims();
      if (claims === undefined) throw new oidc.ClientError('the token response carries no ID token');
      let profile: Record<string, unknown> = claims;
      if (typeof claims.email !== 'string' && configuration.serverMetadata().userinfo_endpoint !== undefined) {
        const userinfo = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
        profile = { ...userinfo, ...claims };
      }
      const email = typeof profile.email === 'string' && profile.email.length <= 320 ? profile.email : null;
      const name = typeof profile.name === 'string' ? profile.name.trim().slice(0, 100) || null : null;
      const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === 'string') : [];
      return {
        issuer: claims.iss,
        subject: claims.sub,
        email,
        emailVerified: email !== null && profile.email_verified === true,
        name,
        amr,
      };
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw new ProviderError(classify(error), error);
    }
  }
}
