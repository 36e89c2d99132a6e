import type { AccessTokenClaims } from './access-token.js';

/**
 * A bounded cache of already-verified access tokens (key: a digest of the exact token string),
 * so a protected route does not pay a signature verification per request (DESIGN.md targets).
 * Entries die at the token's `exp`; the whole cache is dropped when signing keys change.
 * The revoked-session check is NOT cached: callers do it on every request.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, AccessTokenClaims>();
  readonly #max: number;

  constructor(maxEntries = 10_000) {
    this.#max = maxEntries;
  }

  get(key: string, nowMs: number): AccessTokenClaims | undefined {
    const claims = this.#entries.get(key);
    if (claims === undefined) return undefined;
    // The issuer checks exp with no leeway.
    if (claims.exp * 1000 <= nowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return claims;
  }

  set(key: string, claims: AccessTokenClaims): void {
    if (this.#entries.size >= this.#max) {
      // Evict the oldest insertion (Map keeps insertion order).
      const first = this.#entries.keys().next();
      if (!first.done) this.#entries.delete(first.value);
    }
    this.#entries.set(key, claims);
  }

  clear(): void {
    this.#entries.clear();
  }
}
