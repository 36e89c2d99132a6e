import type { AttemptReservation, BackoffPolicy, Clock, Limiter, LimitResult } from '../kernel/ports.js';

interface Window {
  count: number;
  resetAt: number;
}
interface Backoff {
  /** Attempts ever reserved under the key (tickets are 1, 2, …). */
  reserved: number;
  /** Tickets up to this one were cleared by a success. */
  cleared: number;
  blockedUntil: number;
  expiresAt: number;
}

const ALLOWED: LimitResult = { allowed: true, retryAfterSec: 0 };
const retryAfter = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Backoff length after `failures` failures: none below `freeFailures`, then base·2^(n−free), capped. */
export function backoffSeconds(failures: number, policy: BackoffPolicy): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.maxSec, policy.baseSec * 2 ** Math.min(30, failures - policy.freeFailures));
}

/**
 * In-process {@link Limiter}: the embedded default and the per-node fallback when Redis is
 * unreachable (limits keep working per node; they never fail open).
 */
export class MemoryLimiter implements Limiter {
  readonly #windows = new Map<string, Window>();
  readonly #backoffs = new Map<string, Backoff>();
  readonly #claims = new Map<string, number>();
  readonly #clock: Clock;
  #lastSweep = 0;

  constructor(clock: Clock = { now: () => Date.now() }) {
    this.#clock = clock;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k);
    for (const [k, b] of this.#backoffs) if (b.expiresAt <= now) this.#backoffs.delete(k);
    for (const [k, t] of this.#claims) if (t <= now) this.#claims.delete(k);
  }

  async consume(key: string, limit: number, windowSec: number): Promise<LimitResult> {
    const now = this.#clock.now();
    this.#sweep(now);
    let w = this.#windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowSec * 1000 };
      this.#windows.set(key, w);
    }
    w.count++;
    return w.count <= limit ? ALLOWED : { allowed: false, retryAfterSec: retryAfter(w.resetAt - now) };
  }

  async reserveAttempt(key: string, policy: BackoffPolicy): Promise<AttemptReservation> {
    const now = this.#clock.now();
    this.#sweep(now);
    let b = this.#backoffs.get(key);
    if (!b || b.expiresAt <= now) {
      b = { reserved: 0, cleared: 0, blockedUntil: 0, expiresAt: 0 };
      this.#backoffs.set(key, b);
    }
    if (b.blockedUntil > now) return { allowed: false, retryAfterSec: retryAfter(b.blockedUntil - now) };
    // No await between the check and the count: one atomic step on this event loop.
    const state = b;
    const ticket = ++state.reserved;
    const counted = state.reserved - state.cleared;
    const seconds = backoffSeconds(counted, policy);
    if (seconds > 0) state.blockedUntil = now + seconds * 1000;
    // Counters are forgotten a day after the last attempt (or after the longest backoff).
    state.expiresAt = now + Math.max(86_400, policy.maxSec * 2) * 1000;
    return {
      allowed: true,
      succeeded: async () => {
        if (this.#backoffs.get(key) !== state) return;
        state.cleared = Math.max(state.cleared, ticket);
        if (backoffSeconds(state.reserved - state.cleared, policy) === 0) state.blockedUntil = 0;
      },
    };
  }

  async backoffStatus(key: string): Promise<LimitResult> {
    const now = this.#clock.now();
    const b = this.#backoffs.get(key);
    if (!b || b.blockedUntil <= now) return ALLOWED;
    return { allowed: false, retryAfterSec: retryAfter(b.blockedUntil - now) };
  }

  /** Forgets every attempt counted under `key` on this node (the Redis limiter's outage counts, after a shared success). */
  async backoffReset(key: string): Promise<void> {
    this.#backoffs.delete(key);
  }

  async claimOnce(key: string, ttlSec: number): Promise<boolean> {
    const now = this.#clock.now();
    this.#sweep(now);
    const until = this.#claims.get(key);
    if (until !== undefined && until > now) return false;
    this.#claims.set(key, now + ttlSec * 1000);
    return true;
  }

  async releaseClaim(key: string): Promise<void> {
    this.#claims.delete(key);
  }

  health(): 'ok' | 'degraded' {
    return 'ok';
  }

  async close(): Promise<void> {}
}
