import type { SigningAlgorithm, VerificationKey } from '../kernel/tokens/access-token.js';
import { endpointUrl, type FetchLike, fetchJson } from './fetch-json.js';
import { importVerificationKey, type PublishedKey } from './import-verification-key.js';
import { VerifyError } from './verify-error.js';

/** Options of {@link RemoteKeySet}. */
export interface RemoteKeySetOptions {
  url: string | URL;
  algorithms: readonly SigningAlgorithm[];
  fetch: FetchLike;
  now: () => number;
  /** Freshness when the response has no usable `Cache-Control: max-age`. */
  defaultMaxAgeMs?: number;
  /** Least time between two fetches (an unknown `kid` refetches at most this often). */
  cooldownMs?: number;
  /** How long keys stay usable past their freshness while the endpoint fails. */
  staleIfErrorMs?: number;
  timeoutMs?: number;
  signal: AbortSignal;
}

export const DEFAULT_JWKS_MAX_AGE_MS = 5 * 60_000;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** `max-age` is clamped to this ceiling so a retired or compromised key is dropped within a day. */
const MAX_JWKS_MAX_AGE_MS = 24 * 60 * 60_000;
const MAX_JWKS_BYTES = 64 * 1024;
const MAX_JWKS_KEYS = 100;

interface KeySnapshot {
  keys: Map<string, PublishedKey[]>;
  fetchedAt: number;
  freshUntil: number;
}

/**
 * `max-age` (minus `Age`) from a Cache-Control header, in ms; undefined when absent. `no-store`
 * and `no-cache` count as 0. The caller clamps the value: at least the cooldown (so an issuer
 * sending `max-age=0` cannot make us fetch on every request), at most one day.
 */
export function maxAgeFromHeaders(headers: Headers): number | undefined {
  const cacheControl = headers.get('cache-control');
  if (cacheControl === null) return undefined;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const directive of directives) {
    const match = /^max-age="?(\d{1,10})"?$/.exec(directive);
    if (match?.[1] !== undefined) {
      const age = Number(headers.get('age') ?? '0');
      return Math.max(0, Number(match[1]) - (Number.isFinite(age) ? age : 0)) * 1000;
    }
  }
  return undefined;
}

/**
 * The issuer's JWKS, fetched on first use and cached for `Cache-Control: max-age` (default
 * 5 min). An unknown `kid` refetches, at most once per cooldown (default 30 s), so a flood of
 * tokens with invented kids cannot turn into a flood of requests to the issuer. Concurrent
 * fetches are coalesced into one request.
 *
 * @example
 * ```ts
 * const keys = new RemoteKeySet({ url, algorithms: ['EdDSA'], fetch, now: Date.now, signal });
 * const key = await keys.keyFor(kid, 'EdDSA');
 * ```
 */
export class RemoteKeySet {
  readonly #url: URL;
  readonly #algorithms: readonly SigningAlgorithm[];
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #defaultMaxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #staleIfErrorMs: number;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;
  #snapshot: KeySnapshot | undefined;
  #inFlight: Promise<void> | undefined;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #lastError: VerifyError | undefined;
  /** Number of requests sent to the JWKS endpoint (for tests and metrics). */
  fetchCount = 0;

  constructor(options: RemoteKeySetOptions) {
    this.#url = endpointUrl(options.url, 'jwksUrl');
    this.#algorithms = options.algorithms;
    this.#fetch = options.fetch;
    this.#now = options.now;
    this.#defaultMaxAgeMs = options.defaultMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
    this.#cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
    this.#staleIfErrorMs = options.staleIfErrorMs ?? 0;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#signal = options.signal;
  }

  /**
   * The key published under `kid` for `alg`. Refreshes an expired set first; refetches once for
   * an unknown `kid` when the cooldown allows. Throws `VerifyError('jwks_unavailable')` when no
   * usable key set can be had.
   */
  async keyFor(kid: string, alg: SigningAlgorithm): Promise<VerificationKey | undefined> {
    let snapshot = await this.#current();
    let key = pick(snapshot, kid, alg);
    // Join a refetch already under way (concurrent tokens with a new kid share it) or start one
    // when the cooldown allows.
    if (key === undefined && (this.#inFlight !== undefined || this.#now() - this.#lastAttempt >= this.#cooldownMs)) {
      await this.#refresh().catch(() => undefined); // a failed refetch leaves the current keys in use
      snapshot = this.#snapshot ?? snapshot;
      key = pick(snapshot, kid, alg);
    }
    return key;
  }

  /** A snapshot that may be used now: fresh, refreshed, or stale within `staleIfErrorMs`. */
  async #current(): Promise<KeySnapshot> {
    const now = this.#now();
    const cached = this.#snapshot;
    if (cached !== undefined && now < cached.freshUntil) return cached;
    // Expired or never loaded: refresh, but within the cooldown reuse the last outcome (a down
    // endpoint then sees one request per cooldown, not one per incoming token).
    if (this.#inFlight !== undefined || now - this.#lastAttempt >= this.#cooldownMs) {
      try {
        await this.#refresh();
        if (this.#snapshot !== undefined) return this.#snapshot;
      } catch {
        // handled below
      }
    }
    const snapshot = this.#snapshot;
    if (snapshot !== undefined && this.#now() < snapshot.freshUntil + this.#staleIfErrorMs) return snapshot;
    throw this.#lastError ?? new VerifyError('jwks_unavailable', 'fetch_failed');
  }

  /** One fetch at a time; callers arriving meanwhile share its outcome. */
  #refresh(): Promise<void> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(): Promise<void> {
    this.#lastAttempt = this.#now();
    this.fetchCount++;
    try {
      const { body, headers } = await fetchJson(this.#fetch, this.#url, {
        code: 'jwks_unavailable',
        timeoutMs: this.#timeoutMs,
        maxBytes: MAX_JWKS_BYTES,
        signal: this.#signal,
      });
      const list = (body as { keys?: unknown } | null)?.keys;
      if (typeof body !== 'object' || body === null || !Array.isArray(list) || list.length > MAX_JWKS_KEYS) {
        throw new VerifyError('jwks_unavailable', 'invalid_response');
      }
      const keys = new Map<string, PublishedKey[]>();
      for (const jwk of list) {
        const key = await importVerificationKey(jwk, this.#algorithms);
        if (key === undefined) continue;
        const same = keys.get(key.kid);
        if (same === undefined) keys.set(key.kid, [key]);
        else same.push(key);
      }
      if (keys.size === 0) throw new VerifyError('jwks_unavailable', 'no_usable_keys');
      const now = this.#now();
      const maxAge = maxAgeFromHeaders(headers) ?? this.#defaultMaxAgeMs;
      const ttl = Math.min(Math.max(maxAge, this.#cooldownMs), MAX_JWKS_MAX_AGE_MS);
      this.#snapshot = { keys, fetchedAt: now, freshUntil: now + ttl };
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError =
        error instanceof VerifyError ? error : new VerifyError('jwks_unavailable', 'fetch_failed', { cause: error });
      throw this.#lastError;
    }
  }
}

function pick(snapshot: KeySnapshot, kid: string, alg: SigningAlgorithm): VerificationKey | undefined {
  // A Map, not an object: kids like "__proto__" or "constructor" find nothing.
  const candidates = snapshot.keys.get(kid);
  if (candidates === undefined) return undefined;
  const match = candidates.find((k) => k.alg === alg) ?? candidates[0];
  return match === undefined ? undefined : { alg: match.alg, key: match.key };
}
