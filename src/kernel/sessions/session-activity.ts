import type { Logger } from 'pino';
import type { Clock, Store } from '../ports.js';

/** At most one `last_active_at` write per session per interval, per node. */
const TOUCH_INTERVAL_MS = 60_000;
/** Bound on remembered sessions; beyond it, entries older than the interval are dropped. */
const MAX_TRACKED = 100_000;

/**
 * Throttled `last_active_at` updates for the protected-route path: a Map lookup per request,
 * and at most one fire-and-forget store write per session per minute (errors are logged, never
 * thrown into the request).
 */
export class SessionActivity {
  readonly #last = new Map<string, number>();
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { store: Store; clock: Clock; logger: Logger }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** Records activity of a session (never awaits the store). */
  touch(sessionId: string): void {
    const now = this.#clock.now();
    const last = this.#last.get(sessionId);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    if (this.#last.size >= MAX_TRACKED) this.#sweep(now);
    this.#last.set(sessionId, now);
    this.#store.touchSession(sessionId, now).catch((error: unknown) => {
      this.#logger.warn({ err: (error as Error)?.message, sessionId }, 'last_active_at update failed');
    });
  }

  #sweep(now: number): void {
    for (const [id, at] of this.#last) if (now - at >= TOUCH_INTERVAL_MS) this.#last.delete(id);
    if (this.#last.size >= MAX_TRACKED) this.#last.clear();
  }
}
