import { Redis } from 'ioredis';

/** The part of a pino logger the Redis adapters use. */
export interface RedisLogger {
  error(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

/** Bounds of every Redis command, so that a dead or hung Redis never holds a request. */
export interface RedisBounds {
  /** Time to establish a TCP connection (default 1000 ms). */
  connectTimeoutMs?: number | undefined;
  /** Time a command may take before it fails (default 500 ms). */
  commandTimeoutMs?: number | undefined;
}

/**
 * Opens an ioredis connection whose commands fail fast instead of waiting for Redis:
 * no offline queue (a command sent while disconnected fails at once), no retry of in-flight
 * commands, a connect and a command timeout. Reconnection itself never stops (every 100 ms
 * growing to 1 s), so the node recovers by itself when Redis comes back.
 *
 * `subscriber: true` keeps the offline queue (SUBSCRIBE waits for the connection and ioredis
 * re-subscribes after every reconnect); a subscriber sends no request-path commands.
 *
 * @example
 * ```ts
 * const client = createRedisClient('redis://127.0.0.1:6379', { name: 'tokenward-limiter' });
 * ```
 */
export function createRedisClient(url: string, options: RedisBounds & { name: string; subscriber?: boolean }): Redis {
  return new Redis(url, {
    connectionName: options.name,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
    // Never wait for a reconnect before failing a command: the caller falls back at once.
    maxRetriesPerRequest: options.subscriber ? null : 0,
    enableOfflineQueue: options.subscriber ?? false,
    autoResubscribe: true,
    lazyConnect: false,
    ...(options.subscriber ? {} : { commandTimeout: options.commandTimeoutMs ?? 500 }),
  });
}

/**
 * Tracks whether a Redis backend is usable and reports outages to the log at most once a minute
 * (a dead Redis would otherwise log on every request), and once when it is back.
 */
export class RedisOutage {
  readonly #logger: RedisLogger | undefined;
  readonly #what: string;
  readonly #now: () => number;
  #failing = false;
  #lastLogAt = Number.NEGATIVE_INFINITY;

  constructor(options: { logger?: RedisLogger | undefined; what: string; now?: () => number }) {
    this.#logger = options.logger;
    this.#what = options.what;
    this.#now = options.now ?? (() => Date.now());
  }

  /** True between a failure and the next success. */
  get failing(): boolean {
    return this.#failing;
  }

  /** Records a failed command or a lost connection. */
  failed(error: unknown): void {
    this.#failing = true;
    const now = this.#now();
    if (now - this.#lastLogAt < 60_000) return;
    this.#lastLogAt = now;
    const message = error instanceof Error ? error.message : String(error);
    this.#logger?.error({ err: message }, `redis unreachable: ${this.#what}`);
  }

  /** Records a successful command (or a ready connection) after an outage. */
  recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    this.#logger?.warn({}, `redis reachable again: ${this.#what} shared across nodes again`);
  }
}

/** Closes a connection: QUIT when connected, else just stops reconnecting. */
export async function quitOrDisconnect(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through
    }
  }
  client.disconnect();
}
