import { endpointUrl, type FetchLike, fetchJson } from './fetch-json.js';
import { VerifyError } from './verify-error.js';

/** Options of {@link RevocationPoller}. */
export interface RevocationPollerOptions {
  url: string | URL;
  /** Sent as `Authorization: Bearer <token>`; never logged or put in an error. */
  token: string;
  intervalMs: number;
  /** Past this age the list is stale and `check` fails closed. */
  maxStaleMs: number;
  /** Revoked ids are kept this long after the revocation (longer than any access token lives). */
  retainMs: number;
  fetch: FetchLike;
  now: () => number;
  timeoutMs?: number;
  signal: AbortSignal;
}

/** Overlap between polls: a revocation committed late with an earlier `at` is still seen. */
const SINCE_OVERLAP_MS = 5_000;
const MAX_REVOCATIONS_BYTES = 1024 * 1024;

/** Epoch ms from a number (ms) or an ISO 8601 string; undefined otherwise. */
function toMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/**
 * Keeps the set of revoked session ids by polling `GET {url}?since=<ms>` (answer
 * `{revocations: [{sid, at}], now}`) every `intervalMs`, in the background and, on runtimes
 * without background timers, when a check finds the list older than two intervals. `since` is
 * the issuer's own `now` from the previous answer (minus a small overlap), so the two clocks
 * never need to agree. A list older than `maxStaleMs` fails closed.
 *
 * @example
 * ```ts
 * const poller = new RevocationPoller({ url, token, intervalMs: 1000, maxStaleMs: 30_000, retainMs: 86_400_000, fetch, now: Date.now, signal });
 * await poller.check(claims.sid); // throws VerifyError('revoked') for a revoked session
 * ```
 */
export class RevocationPoller {
  readonly #o: RevocationPollerOptions;
  readonly #url: URL;
  readonly #revoked = new Map<string, number>();
  #since = 0;
  #syncedAt = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastError: VerifyError | undefined;
  /** Number of poll requests sent (for tests and metrics). */
  pollCount = 0;

  constructor(options: RevocationPollerOptions) {
    this.#o = options;
    this.#url = endpointUrl(options.url, 'revocation.url');
    if (options.token.length === 0) throw new TypeError('createVerifier: revocation.token is required');
    for (const [name, value] of [
      ['intervalMs', options.intervalMs],
      ['maxStaleMs', options.maxStaleMs],
      ['retainMs', options.retainMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0)
        throw new RangeError(`createVerifier: revocation.${name} must be a positive number`);
    }
  }

  /** Starts background polling (timers are unref'd in Node so they never keep a process alive). */
  start(): void {
    if (this.#timer !== undefined || this.#o.signal.aborted) return;
    const tick = (): void => {
      this.#timer = undefined;
      if (this.#o.signal.aborted) return;
      this.poll()
        .catch(() => undefined)
        .finally(() => {
          if (this.#o.signal.aborted) return;
          this.#timer = setTimeout(tick, this.#o.intervalMs);
          (this.#timer as { unref?: () => void }).unref?.();
        });
    };
    tick();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Throws `VerifyError('revoked')` for a revoked session, `revocation_unavailable` when stale. */
  async check(sid: string): Promise<void> {
    // Normally the background loop keeps the list fresh; poll inline only when it has fallen
    // behind by a whole interval (or cannot run: edge runtimes without background timers).
    if (this.#o.now() - this.#syncedAt >= 2 * this.#o.intervalMs) {
      await this.poll().catch(() => undefined);
    }
    if (this.#revoked.has(sid)) throw new VerifyError('revoked', 'session_revoked');
    if (this.#o.now() - this.#syncedAt > this.#o.maxStaleMs) {
      throw this.#lastError ?? new VerifyError('revocation_unavailable', 'stale');
    }
  }

  /** One poll; concurrent callers share it. */
  poll(): Promise<void> {
    this.#inFlight ??= this.#load().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #load(): Promise<void> {
    this.pollCount++;
    const url = new URL(this.#url);
    url.searchParams.set('since', String(this.#since));
    try {
      const { body } = await fetchJson(this.#o.fetch, url, {
        code: 'revocation_unavailable',
        timeoutMs: this.#o.timeoutMs ?? 5_000,
        maxBytes: MAX_REVOCATIONS_BYTES,
        headers: { authorization: `Bearer ${this.#o.token}` },
        signal: this.#o.signal,
      });
      const answer = body as { revocations?: unknown; now?: unknown } | null;
      const serverNow = toMs(answer?.now);
      if (
        answer === null ||
        typeof answer !== 'object' ||
        !Array.isArray(answer.revocations) ||
        serverNow === undefined
      ) {
        throw new VerifyError('revocation_unavailable', 'invalid_response');
      }
      const entries: Array<[string, number]> = [];
      for (const item of answer.revocations as unknown[]) {
        const { sid, at } = (item ?? {}) as { sid?: unknown; at?: unknown };
        const atMs = toMs(at);
        if (typeof sid !== 'string' || sid.length === 0 || atMs === undefined) {
          throw new VerifyError('revocation_unavailable', 'invalid_response');
        }
        entries.push([sid, atMs]);
      }
      // Our own clock ages entries out; the issuer's clock only chooses `since`.
      const now = this.#o.now();
      for (const [sid] of entries) if (!this.#revoked.has(sid)) this.#revoked.set(sid, now);
      for (const [sid, addedAt] of this.#revoked) if (now - addedAt > this.#o.retainMs) this.#revoked.delete(sid);
      this.#since = Math.max(this.#since, serverNow - SINCE_OVERLAP_MS);
      this.#syncedAt = now;
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError =
        error instanceof VerifyError
          ? error
          : new VerifyError('revocation_unavailable', 'fetch_failed', { cause: error });
      throw this.#lastError;
    }
  }
}
