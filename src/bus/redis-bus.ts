import type { Redis } from 'ioredis';
import type { RevocationBus } from '../kernel/ports.js';
import {
  createRedisClient,
  quitOrDisconnect,
  type RedisBounds,
  type RedisLogger,
  RedisOutage,
} from '../redis/redis-connection.js';

type Revocations = Array<{ sessionId: string; at: number }>;

/** Options of {@link RedisBus}. */
export interface RedisBusOptions extends RedisBounds {
  /** `redis://…` or `rediss://…`. */
  url: string;
  /** Pub/sub channel (default `tw:revocations`); nodes of one deployment must agree. */
  channel?: string | undefined;
  /** Outages are logged here, at most once a minute. */
  logger?: RedisLogger | undefined;
}

/** Largest batch accepted from the channel (a logout-all of many sessions fits easily). */
const MAX_BATCH = 10_000;

/** Parses a channel message; anything malformed is dropped (never thrown into the subscriber). */
function parseMessage(message: string): Revocations | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length > MAX_BATCH) return null;
  const list: Revocations = [];
  for (const item of value) {
    const r = item as { s?: unknown; a?: unknown } | null;
    if (
      !r ||
      typeof r.s !== 'string' ||
      r.s.length === 0 ||
      r.s.length > 128 ||
      typeof r.a !== 'number' ||
      !Number.isFinite(r.a)
    )
      return null;
    list.push({ sessionId: r.s, at: r.a });
  }
  return list;
}

/**
 * {@link RevocationBus} over Redis pub/sub: a revocation published on one node reaches every
 * other node's denylist in milliseconds. One connection publishes (bounded, fails fast), a
 * second one subscribes (Redis requires a dedicated connection for SUBSCRIBE; ioredis
 * re-subscribes after every reconnect).
 *
 * Pub/sub is fire-and-forget: messages sent while a node is disconnected are lost. That is
 * why every node also polls the store's revocations every 500 ms; {@link RedisBus.health} says
 * `degraded` while either connection is down or publishing fails, and the outage is logged at
 * most once a minute. After a failed publish, publishing pauses until a PING (each second) succeeds.
 *
 * @example
 * ```ts
 * const bus = new RedisBus({ url: 'redis://127.0.0.1:6379', logger });
 * const tw = await createTokenward(options, { bus });
 * ```
 */
export class RedisBus implements RevocationBus {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #handlers = new Set<(r: Revocations) => void>();
  readonly #outage: RedisOutage;
  readonly #subscribed: Promise<unknown>;
  readonly #probe: NodeJS.Timeout;
  #closed = false;

  constructor(options: RedisBusOptions) {
    this.#channel = options.channel ?? 'tw:revocations';
    this.#outage = new RedisOutage({
      logger: options.logger,
      what: 'revocations reach other nodes by polling the store (≤ 1 s) until it is back',
    });
    const bounds = { connectTimeoutMs: options.connectTimeoutMs, commandTimeoutMs: options.commandTimeoutMs };
    this.#publisher = createRedisClient(options.url, { ...bounds, name: 'tokenward-bus-pub' });
    this.#subscriber = createRedisClient(options.url, { ...bounds, name: 'tokenward-bus-sub', subscriber: true });
    for (const client of [this.#publisher, this.#subscriber]) {
      client.on('error', (error: Error) => this.#outage.failed(error));
      client.on('close', () => {
        if (!this.#closed) this.#outage.failed(new Error('connection closed'));
      });
      client.on('ready', () => {
        if (this.#connected()) this.#outage.recovered();
      });
    }
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const list = parseMessage(message);
      if (!list || list.length === 0) return;
      for (const handler of this.#handlers) {
        try {
          handler(list);
        } catch {
          // one failing handler must not starve the others
        }
      }
    });
    // Queued until the subscriber connects; re-issued by ioredis after each reconnect.
    this.#subscribed = this.#subscriber.subscribe(this.#channel).catch((error: unknown) => this.#outage.failed(error));
    // After a failed publish (e.g. a hung server), a PING each second decides when to publish again.
    this.#probe = setInterval(() => {
      if (!this.#outage.failing || this.#publisher.status !== 'ready') return;
      this.#publisher.ping().then(
        () => {
          if (this.#connected()) this.#outage.recovered();
        },
        (error: unknown) => this.#outage.failed(error),
      );
    }, 1000);
    this.#probe.unref();
  }

  #connected(): boolean {
    return this.#publisher.status === 'ready' && this.#subscriber.status === 'ready';
  }

  /** Resolves when both connections are ready and subscribed, or after `timeoutMs`. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const publisherReady =
      this.#publisher.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.#publisher.once('ready', () => resolve()));
    const ok = await Promise.race([Promise.all([this.#subscribed, publisherReady]).then(() => true), timeout]);
    clearTimeout(timer);
    return ok && this.health() === 'ok';
  }

  /** Publishes revoked session ids to every node; throws when Redis is unreachable (polling covers it). */
  async publish(revocations: Revocations): Promise<void> {
    if (revocations.length === 0) return;
    const message = JSON.stringify(revocations.map((r) => ({ s: r.sessionId, a: r.at })));
    // Not while Redis is known to fail: a hung server would hold every logout for the command timeout.
    if (this.#publisher.status !== 'ready' || this.#outage.failing) {
      const error = new Error(`redis ${this.#outage.failing ? 'failing' : `connection ${this.#publisher.status}`}`);
      this.#outage.failed(error);
      throw error;
    }
    try {
      await this.#publisher.publish(this.#channel, message);
    } catch (error) {
      this.#outage.failed(error);
      throw error;
    }
  }

  /** Calls `handler` with revocations published by any node (this one included). Returns the unsubscribe function. */
  subscribe(handler: (revocations: Revocations) => void): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  /** `degraded` while a connection is down (revocations then travel by polling only). */
  health(): 'ok' | 'degraded' {
    return this.#connected() && !this.#outage.failing ? 'ok' : 'degraded';
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#probe);
    this.#handlers.clear();
    await Promise.all([quitOrDisconnect(this.#publisher), quitOrDisconnect(this.#subscriber)]);
  }
}
