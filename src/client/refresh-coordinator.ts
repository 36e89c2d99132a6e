import type { LockManagerLike } from './env.js';

/** Messages the BroadcastChannel fallback exchanges between tabs. */
export type ElectionMessage = { t: 'claim'; id: string; at: number } | { t: 'done' };

/** Web Locks name shared by every tab of the origin. */
const LOCK_NAME = 'tokenward-refresh';
/** How long a tab collects rival claims before deciding who refreshes (fallback only). */
const ELECTION_MS = 50;
/** Longest a tab waits for another tab's refresh before simply retrying. */
const WAIT_MS = 10_000;

/**
 * Dependencies of the coordinator. `generation()` changes whenever any tab completes a
 * refresh (the client updates it from the `refreshed` broadcast); `run()` performs the HTTP
 * refresh and resolves whether it succeeded.
 *
 * @example
 * ```ts
 * const deps: RefreshCoordinatorDeps = { locks: navigator.locks, post: undefined, generation: () => '0', run: async () => true };
 * ```
 */
export interface RefreshCoordinatorDeps {
  locks: LockManagerLike | undefined;
  post: ((message: ElectionMessage) => void) | undefined;
  generation: () => string;
  /** Whether any tab refreshed since `seen` (a `generation()` value) was taken. Default: it differs. */
  moved?: (seen: string) => boolean;
  run: () => Promise<boolean>;
}

/**
 * The coordinator: `refreshOnce(seen)` takes the generation captured before the failed
 * request was sent and resolves `true` when the request is worth one retry.
 *
 * @example
 * ```ts
 * const seen = generation;
 * const res = await fetch(request.clone());
 * if (res.status === 401 && (await coordinator.refreshOnce(seen))) return fetch(request);
 * ```
 */
export interface RefreshCoordinator {
  refreshOnce(seen: string): Promise<boolean>;
  receive(message: ElectionMessage): void;
}

/**
 * Makes sure one refresh reaches the server however many requests, and however many tabs,
 * see an expired access token at once.
 *
 * - In this tab: concurrent callers share one in-flight refresh.
 * - Across tabs with Web Locks: the tab that gets `tokenward-refresh` without waiting refreshes
 *   (unless the generation moved since its request was sent); a tab that had to wait for the
 *   lock never refreshes, because the lock holder just did and the cookie jar is shared.
 * - Across tabs without Web Locks: a 50 ms election over BroadcastChannel (earliest claim
 *   wins); the others wait for the winner's `done`.
 * - With neither: only the in-tab sharing (the server's grace window absorbs duplicates).
 *
 * @example
 * ```ts
 * const coordinator = createRefreshCoordinator({
 *   locks: navigator.locks,
 *   post: (m) => channel.postMessage(m),
 *   generation: () => marker,
 *   run: refreshOverHttp,
 * });
 * ```
 */
export function createRefreshCoordinator(deps: RefreshCoordinatorDeps): RefreshCoordinator {
  const { locks, post, generation, run } = deps;
  const moved = deps.moved ?? ((seen: string) => generation() !== seen);
  // A tie-breaker for simultaneous claims, not a secret.
  const id = crypto.getRandomValues(new Uint32Array(2)).join('.');
  let inflight: Promise<boolean> | undefined;
  let claims: ElectionMessage[] | undefined;
  let busyUntil = 0;
  let dones = 0;
  const waiters = new Set<() => void>();

  const refreshIfStill = async (seen: string): Promise<boolean> => moved(seen) || run();

  // Resolves once another tab reports `done` after `since`, or after WAIT_MS (then the caller
  // retries anyway; a second 401 is returned to the app, never another refresh).
  const waitForOtherTab = (since: number): Promise<boolean> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(done, dones > since ? 0 : WAIT_MS);
      waiters.add(done);
    });

  const withLocks = async (lockManager: LockManagerLike, seen: string): Promise<boolean> => {
    const mine = await lockManager.request(LOCK_NAME, { ifAvailable: true }, async (lock) =>
      lock ? [await refreshIfStill(seen)] : undefined,
    );
    // Another tab holds the lock, so it is refreshing right now: wait until it lets go, then
    // retry with the cookies it received.
    return mine ? mine[0] === true : lockManager.request(LOCK_NAME, {}, () => true);
  };

  const elect = async (send: (message: ElectionMessage) => void, seen: string): Promise<boolean> => {
    const since = dones;
    if (Date.now() < busyUntil) return waitForOtherTab(since);
    const claim = { t: 'claim', id, at: Date.now() } as const;
    const heard: ElectionMessage[] = [];
    claims = heard;
    send(claim);
    await new Promise((resolve) => setTimeout(resolve, ELECTION_MS));
    claims = undefined;
    const lost = heard.some((c) => c.t === 'claim' && (c.at < claim.at || (c.at === claim.at && c.id < id)));
    if (lost) return waitForOtherTab(since);
    try {
      return await refreshIfStill(seen);
    } finally {
      busyUntil = 0;
      send({ t: 'done' });
    }
  };

  return {
    refreshOnce(seen) {
      if (moved(seen)) return Promise.resolve(true);
      inflight ??= (
        locks
          ? withLocks(locks, seen).catch(() => refreshIfStill(seen))
          : post
            ? elect(post, seen)
            : refreshIfStill(seen)
      ).finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    receive(message) {
      if (message.t === 'claim') {
        claims?.push(message);
        busyUntil = Date.now() + WAIT_MS;
      } else if (message.t === 'done') {
        dones++;
        busyUntil = 0;
        for (const wake of waiters) wake();
      }
    },
  };
}
