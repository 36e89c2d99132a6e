import type { BackoffPolicy, Clock, LimitResult, Limiter } from '../core/ports.js';

interface Window {
  count: number;
  resetAt: number;
}
interface Backoff {
  failures: number;
  blockedUntil: number;
  expiresAt: number;
}

const ALLOWED: LimitResult = { allowed: true, retryAfterSec: 0 };
const retryAfter = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Backoff length after `failures` failures: none up to `freeFailures`, then base·2^(n−free−1), capped. */
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

  async backoffStatus(key: string): Promise<LimitResult> {
    const now = this.#clock.now();
    const b = this.#backoffs.get(key);
    if (!b || b.blockedUntil <= now) return ALLOWED;
    return { allowed: false, retryAfterSec: retryAfter(b.blockedUntil - now) };
  }

  async backoffFailure(key: string, policy: BackoffPolicy): Promise<void> {
    const now = this.#clock.now();
    this.#sweep(now);
    const b = this.#backoffs.get(key);
    const failures = (b && b.expiresAt > now ? b.failures : 0) + 1;
    const seconds = backoffSeconds(failures, policy);
    // Counters are forgotten a day after the last failure (or after the longest backoff).
    this.#backoffs.set(key, { failures, blockedUntil: now + seconds * 1000, expiresAt: now + Math.max(86_400, policy.maxSec * 2) * 1000 });
  }

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

  health(): 'ok' | 'degraded' {
    return 'ok';
  }

  async close(): Promise<void> {}
}
