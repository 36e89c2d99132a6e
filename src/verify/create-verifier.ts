import {
  type AccessTokenClaims,
  MAX_ACCESS_TOKEN_LENGTH,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  verifyAccessToken,
} from '../kernel/tokens/access-token.js';
import type { FetchLike } from './fetch-json.js';
import { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_AGE_MS, RemoteKeySet } from './remote-key-set.js';
import { RevocationPoller } from './revocation-poller.js';
import { VerifyError } from './verify-error.js';

/** The claims of an access token that passed every check. */
export type VerifiedAccessToken = Readonly<AccessTokenClaims>;

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** Expected `iss`, exactly as the issuer writes it. */
  issuer: string;
  /** Expected `aud` (this service). */
  audience: string;
  /** The issuer's JWKS, e.g. `https://auth.example.com/.well-known/jwks.json` (https: except on loopback). */
  jwksUrl: string | URL;
  /** Accepted algorithms, a subset of `EdDSA`, `ES256`, `RS256`. Default `['EdDSA']` (the issuer's default). */
  algorithms?: readonly SigningAlgorithm[];
  /** Allowed clock skew for `exp`/`nbf`/`iat`, in seconds. Default 30; at most `maxClockToleranceSec`. */
  clockToleranceSec?: number;
  /** Raise this (explicitly) to allow a `clockToleranceSec` above 30 s. Default 30. */
  maxClockToleranceSec?: number;
  /** `fetch` to use (default: the global one). */
  fetch?: FetchLike;
  /** Revocation check: poll the issuer's revocation feed and reject tokens of revoked sessions. */
  revocation?: {
    url: string | URL;
    /** Credential for the feed, sent as `Authorization: Bearer …`. */
    token: string;
    /** Poll period. Default 1000 ms. */
    intervalMs?: number;
    /** Fail closed (`revocation_unavailable`) when the last successful poll is older. Default 30 s. */
    maxStaleMs?: number;
    /** Keep a revoked id this long; must exceed the access-token lifetime. Default 24 h. */
    retainMs?: number;
  };
  /** Advanced JWKS cache tuning. */
  jwks?: {
    /** Freshness when the JWKS response has no `Cache-Control: max-age`. Default 5 min. */
    defaultMaxAgeMs?: number;
    /** Least time between fetches; bounds refetches for unknown `kid`s. Default 30 s. */
    cooldownMs?: number;
    /** Keep using expired keys this long while the JWKS endpoint fails. Default 5 min. */
    staleIfErrorMs?: number;
    /** Per-request timeout. Default 5 s. */
    timeoutMs?: number;
  };
  /**
   * This verifier does not check DPoP proofs, so by default it refuses tokens bound to a key
   * (`cnf.jkt`, RFC 9449): used as plain bearer tokens they would lose their protection. Set
   * `true` only when you verify the DPoP proof against `cnf.jkt` yourself.
   */
  acceptDpopBound?: boolean;
  /**
   * Tokens of a restricted session (`tw_restriction`, e.g. `mfa_enrollment`: with the issuer's
   * `requireMfa`, a login that proved no second factor) are refused with the code `restricted`
   * (answer 403): such a session may only enrol a second factor at the issuer. Set `true` only
   * to read the claim and decide yourself.
   */
  acceptRestricted?: boolean;
  /** Clock in ms (default `Date.now`); tests pass a frozen clock. */
  now?: () => number;
}

/** A verifier made by {@link createVerifier}. */
export interface Verifier {
  /** Verifies an access token; resolves to its claims or throws a {@link VerifyError}. */
  verify(token: string): Promise<VerifiedAccessToken>;
  /** Stops revocation polling and aborts in-flight requests; later `verify` calls throw `closed`. */
  close(): void;
}

const DEFAULT_CLOCK_TOLERANCE_SEC = 30;

/**
 * Creates an edge-safe verifier of Tokenward access tokens for other services: the same rules as
 * the issuing server (`verifyAccessToken`: RFC 8725/9068, API.md "Tokens"), keys from the
 * issuer's JWKS, optional revocation check. Uses only `jose`, `fetch` and Web Crypto, so it
 * runs on Node, Deno, Bun and edge runtimes.
 *
 * @example
 * ```ts
 * import { createVerifier, VerifyError } from 'tokenward/verify';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
 * });
 * const claims = await verifier.verify(bearerToken); // throws VerifyError
 * console.log(claims.sub, claims.sid);
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options.issuer !== 'string' || options.issuer.length === 0)
    throw new TypeError('createVerifier: issuer is required');
  if (typeof options.audience !== 'string' || options.audience.length === 0)
    throw new TypeError('createVerifier: audience is required');
  const algorithms = options.algorithms ?? ['EdDSA'];
  if (algorithms.length === 0 || algorithms.some((alg) => !SIGNING_ALGORITHMS.includes(alg))) {
    throw new TypeError(`createVerifier: algorithms must be a non-empty subset of ${SIGNING_ALGORITHMS.join(', ')}`);
  }
  const maxTolerance = options.maxClockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  const tolerance = options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  if (!Number.isFinite(maxTolerance) || maxTolerance < 0)
    throw new RangeError('createVerifier: maxClockToleranceSec must be finite and >= 0');
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > maxTolerance) {
    throw new RangeError(
      `createVerifier: clockToleranceSec must be between 0 and ${maxTolerance} (raise maxClockToleranceSec explicitly for more)`,
    );
  }
  const fetchFn: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = options.now ?? Date.now;
  const lifetime = new AbortController();

  const keys = new RemoteKeySet({
    url: options.jwksUrl,
    algorithms,
    fetch: fetchFn,
    now,
    defaultMaxAgeMs: options.jwks?.defaultMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS,
    cooldownMs: options.jwks?.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
    staleIfErrorMs: options.jwks?.staleIfErrorMs ?? 5 * 60_000,
    timeoutMs: options.jwks?.timeoutMs ?? 5_000,
    signal: lifetime.signal,
  });
  const revocations =
    options.revocation === undefined
      ? undefined
      : new RevocationPoller({
          url: options.revocation.url,
          token: options.revocation.token,
          intervalMs: options.revocation.intervalMs ?? 1_000,
          maxStaleMs: options.revocation.maxStaleMs ?? 30_000,
          retainMs: options.revocation.retainMs ?? 24 * 60 * 60_000,
          fetch: fetchFn,
          now,
          signal: lifetime.signal,
        });
  revocations?.start();

  return {
    async verify(token: string): Promise<VerifiedAccessToken> {
      if (lifetime.signal.aborted) throw new VerifyError('closed', 'closed');
      if (typeof token !== 'string') throw new VerifyError('invalid_token', 'malformed');
      const result = await verifyAccessToken(token, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        keyFor: (kid, alg) => keys.keyFor(kid, alg),
        now: now(),
        clockToleranceSec: tolerance,
        maxLength: MAX_ACCESS_TOKEN_LENGTH,
      });
      if (!result.ok) throw new VerifyError('invalid_token', result.reason);
      if (result.claims.cnf !== undefined && options.acceptDpopBound !== true)
        throw new VerifyError('invalid_token', 'dpop_bound');
      if (result.claims.tw_restriction !== undefined && options.acceptRestricted !== true)
        throw new VerifyError('restricted', 'restricted');
      await revocations?.check(result.claims.sid);
      return result.claims;
    },
    close(): void {
      revocations?.stop();
      lifetime.abort();
    },
  };
}
