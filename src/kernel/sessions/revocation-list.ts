/**
 * In-memory denylist of revoked session ids, checked on every authenticated request (O(1)).
 * An entry lives for one access-token lifetime after the revocation: after that every access
 * token of the session has expired on its own.
 */
export class RevocationList {
  readonly #revoked = new Map<string, number>();
  readonly #ttlMs: number;
  #lastSweep = 0;

  constructor(accessTtlSec: number) {
    // A little margin over the access-token lifetime covers clock skew between nodes.
    this.#ttlMs = (accessTtlSec + 60) * 1000;
  }

  add(sessionId: string, at: number): void {
    if (!this.#revoked.has(sessionId)) this.#revoked.set(sessionId, at);
  }

  has(sessionId: string): boolean {
    return this.#revoked.has(sessionId);
  }

  get size(): number {
    return this.#revoked.size;
  }

  /** Drops entries older than one access-token lifetime. Cheap to call often. */
  sweep(now: number): void {
    if (now - this.#lastSweep < 10_000) return;
    this.#lastSweep = now;
    for (const [id, at] of this.#revoked) {
      if (now - at > this.#ttlMs) this.#revoked.delete(id);
    }
  }
}
