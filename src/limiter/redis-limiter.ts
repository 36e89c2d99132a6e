import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AttemptReservation, BackoffPolicy, Clock, Limiter, LimitResult } from '../kernel/ports.js';
import {
  createRedisClient,
  quitOrDisconnect,
  type RedisBounds,
  type RedisLogger,
  RedisOutage,
} from '../redis/redis-connection.js';
import { MemoryLimiter } from './memory-limiter.js';

/** Options of {@link RedisLimiter}. */
export interface RedisLimiterOptions extends RedisBounds {
  /** `redis://…` or `rediss://…`. */
  url: string;
  /** Prefix of every key (default `tw:`), to share one Redis between deployments. */
  keyPrefix?: string | undefined;
  /** Outages are logged here, at most once a minute. */
  logger?: RedisLogger | undefined;
  /** Clock of the per-node fallback counters. */
  clock?: Clock | undefined;
}

/** Distinct limits kept as rate-limiter instances (each limit value needs its own pair). */
const MAX_LIMIT_INSTANCES = 64;

/**
 * Reserves one attempt at a secret check in one step, so that concurrent attempts on any number
 * of nodes are counted before any of them is evaluated (no check-then-act): KEYS[1] is a hash
 * `{reserved, cleared}` (tickets ever reserved, tickets cleared by a success; expires a day after
 * the last attempt), KEYS[2] exists while the key backs off (its TTL is the remaining backoff).
 * While KEYS[2] exists the attempt is refused: returns {0, ms left}. Otherwise the attempt is
 * counted as a failure in advance, and once `reserved − cleared` reaches `freeFailures` the key
 * backs off base·2^(n−free) (capped) — the same schedule as `backoffSeconds`: returns {1, ticket}.
 * ARGV: freeFailures, baseSec, maxSec, counter TTL ms.
 */
const RESERVE_ATTEMPT_LUA = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {0, blocked} end
local ticket = redis.call('HINCRBY', KEYS[1], 'reserved', 1)
local cleared = tonumber(redis.call('HGET', KEYS[1], 'cleared') or '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local counted = ticket - cleared
local free = tonumber(ARGV[1])
if counted >= free then
  local seconds = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(30, counted - free))
  local ms = math.floor(seconds * 1000)
  if ms > 0 then redis.call('SET', KEYS[2], counted, 'PX', ms) end
end
return {1, ticket}
`;

/**
 * A reserved attempt succeeded: tickets up to ARGV[1] are cleared (later reservations stay
 * counted), and the backoff is lifted when fewer than ARGV[2] (freeFailures) remain.
 */
const ATTEMPT_SUCCEEDED_LUA = `
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local cleared = tonumber(redis.call('HGET', KEYS[1], 'cleared') or '0')
local ticket = math.min(tonumber(ARGV[1]), reserved)
if ticket > cleared then
  cleared = ticket
  redis.call('HSET', KEYS[1], 'cleared', cleared)
end
if reserved - cleared < tonumber(ARGV[2]) then redis.call('DEL', KEYS[2]) end
return reserved - cleared
`;

interface BackoffCommands {
  twReserveAttempt(
    stateKey: string,
    blockKey: string,
    free: string,
    base: string,
    max: string,
    ttlMs: string,
  ): Promise<[number, number]>;
  twAttemptSucceeded(stateKey: string, blockKey: string, ticket: string, free: string): Promise<number>;
}

const ALLOWED: LimitResult = { allowed: true, retryAfterSec: 0 };
const retryAfter = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Counts fall back to this node's memory; it marks the outage (the Redis limiter calls it silently). */
class InsuranceLimiter extends RateLimiterMemory {
  readonly #onUse: () => void;
  constructor(options: { points: number; duration: number; keyPrefix: string }, onUse: () => void) {
    super(options);
    this.#onUse = onUse;
  }
  override consume(
    key: string | number,
    points?: number,
    options?: { [key: string]: unknown },
  ): Promise<RateLimiterRes> {
    this.#onUse();
    return super.consume(key, points, options);
  }
}

/**
 * {@link Limiter} shared by every node through Redis: fixed windows with
 * `rate-limiter-flexible`'s `RateLimiterRedis`, login backoff as two keys updated by one Lua
 * script, single-use claims with `SET NX PX`.
 *
 * When Redis is unreachable nothing fails open: windows count in an in-memory insurance limiter,
 * backoff and claims in a per-node {@link MemoryLimiter}, so each node still enforces every limit
 * on its own; {@link RedisLimiter.health} says `degraded`, the outage is logged at most once a
 * minute, and counting is shared again as soon as Redis answers (a PING each second while it
 * fails). Every command is bounded (no offline queue, 500 ms command timeout), and once a command
 * has failed the next calls go straight to the local fallback until the probe succeeds, so a
 * request never waits for a dead or hung Redis more than once.
 *
 * Keys are SHA-256 digests of the limiter keys (which contain emails and IP addresses).
 *
 * @example
 * ```ts
 * const limiter = new RedisLimiter({ url: 'redis://127.0.0.1:6379', logger });
 * await limiter.ready(2000);
 * const tw = await createTokenward(options, { limiter });
 * ```
 */
export class RedisLimiter implements Limiter {
  readonly #client: Redis & BackoffCommands;
  readonly #prefix: string;
  readonly #local: MemoryLimiter;
  readonly #windows = new Map<number, { shared: RateLimiterRedis; local: RateLimiterMemory }>();
  readonly #outage: RedisOutage;
  readonly #probe: NodeJS.Timeout;
  #closed = false;

  constructor(options: RedisLimiterOptions) {
    this.#prefix = options.keyPrefix ?? 'tw:';
    this.#local = new MemoryLimiter(options.clock ?? { now: () => Date.now() });
    this.#outage = new RedisOutage({
      logger: options.logger,
      what: 'rate limits and login backoff count per node until it is back',
    });
    const client = createRedisClient(options.url, {
      name: 'tokenward-limiter',
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
    });
    client.defineCommand('twReserveAttempt', { numberOfKeys: 2, lua: RESERVE_ATTEMPT_LUA });
    client.defineCommand('twAttemptSucceeded', { numberOfKeys: 2, lua: ATTEMPT_SUCCEEDED_LUA });
    client.on('error', (error: Error) => this.#outage.failed(error));
    client.on('close', () => {
      if (!this.#closed) this.#outage.failed(new Error('connection closed'));
    });
    client.on('ready', () => this.#outage.recovered());
    this.#client = client as Redis & BackoffCommands;
    // While failing, a cheap PING each second notices the recovery even when no request comes.
    this.#probe = setInterval(() => {
      if (!this.#outage.failing || this.#client.status !== 'ready') return;
      this.#client.ping().then(
        () => this.#outage.recovered(),
        (error: unknown) => this.#outage.failed(error),
      );
    }, 1000);
    this.#probe.unref();
  }

  /** Resolves when the connection is ready, or after `timeoutMs` (then the limiter starts degraded). */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.#client.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#client.once('ready', onReady);
    });
  }

  #key(kind: string, key: string): string {
    return `${this.#prefix}${kind}:${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`;
  }

  /**
   * Whether to ask Redis at all. Not while the connection is down, and not while it is known to
   * fail (e.g. a hung server that times out every command): then calls go straight to the local
   * fallback, and the once-a-second probe decides when Redis is back.
   */
  #usable(): boolean {
    if (this.#client.status !== 'ready') {
      this.#outage.failed(new Error(`connection ${this.#client.status}`));
      return false;
    }
    return !this.#outage.failing;
  }

  /** The Redis window limiter for `limit` hits, and its in-memory insurance (the same counts during an outage). */
  #windowLimiter(limit: number): { shared: RateLimiterRedis; local: RateLimiterMemory } {
    let pair = this.#windows.get(limit);
    if (!pair) {
      if (this.#windows.size >= MAX_LIMIT_INSTANCES) this.#windows.clear();
      const local = new InsuranceLimiter({ points: limit, duration: 60, keyPrefix: `${this.#prefix}rl` }, () =>
        this.#outage.failed(new Error('window counted in memory')),
      );
      const shared = new RateLimiterRedis({
        storeClient: this.#client,
        keyPrefix: `${this.#prefix}rl`,
        points: limit,
        duration: 60,
        // Fail over to memory at once instead of sending to a connection that is down.
        rejectIfRedisNotReady: true,
        insuranceLimiter: local,
      });
      pair = { shared, local };
      this.#windows.set(limit, pair);
    }
    return pair;
  }

  /** Counts one hit against `limit` per `windowSec`, on every node together. */
  async consume(key: string, limit: number, windowSec: number): Promise<LimitResult> {
    const hashed = this.#key('w', key);
    const pair = this.#windowLimiter(limit);
    try {
      await (this.#usable() ? pair.shared : pair.local).consume(hashed, 1, { customDuration: windowSec });
      return ALLOWED;
    } catch (error) {
      if (error instanceof RateLimiterRes) return { allowed: false, retryAfterSec: retryAfter(error.msBeforeNext) };
      this.#outage.failed(error);
      return this.#local.consume(key, limit, windowSec);
    }
  }

  /** Whether `key` backs off, on any node (or, for failures counted during an outage, on this one). */
  async backoffStatus(key: string): Promise<LimitResult> {
    const local = await this.#local.backoffStatus(key);
    if (!this.#usable()) return local;
    try {
      const ms = await this.#client.pttl(this.#key('bb', key));
      this.#outage.recovered();
      if (ms > 0 && retryAfter(ms) > local.retryAfterSec) return { allowed: false, retryAfterSec: retryAfter(ms) };
      return local;
    } catch (error) {
      this.#outage.failed(error);
      return local;
    }
  }

  /**
   * Reserves an attempt for every node at once (one Lua call); while Redis is unreachable the
   * attempt is counted on this node only, and its success is reported to the same place.
   */
  async reserveAttempt(key: string, policy: BackoffPolicy): Promise<AttemptReservation> {
    // Failures counted here during an outage still hold this node back until they expire.
    const local = await this.#local.backoffStatus(key);
    if (!local.allowed) return { allowed: false, retryAfterSec: local.retryAfterSec };
    if (this.#usable()) {
      const stateKey = this.#key('ba', key);
      const blockKey = this.#key('bb', key);
      try {
        const ttlMs = Math.max(86_400, policy.maxSec * 2) * 1000;
        const [allowed, value] = await this.#client.twReserveAttempt(
          stateKey,
          blockKey,
          String(policy.freeFailures),
          String(policy.baseSec),
          String(policy.maxSec),
          String(ttlMs),
        );
        this.#outage.recovered();
        if (allowed !== 1) return { allowed: false, retryAfterSec: retryAfter(value) };
        return {
          allowed: true,
          succeeded: async () => {
            await this.#local.backoffReset(key);
            try {
              await this.#client.twAttemptSucceeded(stateKey, blockKey, String(value), String(policy.freeFailures));
            } catch (error) {
              this.#outage.failed(error);
            }
          },
        };
      } catch (error) {
        this.#outage.failed(error);
      }
    }
    return this.#local.reserveAttempt(key, policy);
  }

  /**
   * True for the first claim of `key` on any node within `ttlSec` (`SET NX PX`). Claims are also
   * remembered on this node, so a claim made here while Redis was unreachable is still refused
   * here after it comes back.
   */
  async claimOnce(key: string, ttlSec: number): Promise<boolean> {
    if (!(await this.#local.claimOnce(key, ttlSec))) return false;
    if (!this.#usable()) return true;
    try {
      const result = await this.#client.set(
        this.#key('c', key),
        '1',
        'PX',
        Math.max(1, Math.round(ttlSec * 1000)),
        'NX',
      );
      this.#outage.recovered();
      // Another node holds it: this node's copy was made by this call only, so it goes too
      // (otherwise a released claim would stay refused here).
      if (result !== 'OK') await this.#local.releaseClaim(key);
      return result === 'OK';
    } catch (error) {
      this.#outage.failed(error);
      return true;
    }
  }

  /** Gives a claim back on every node (only the request holding it calls this). */
  async releaseClaim(key: string): Promise<void> {
    await this.#local.releaseClaim(key);
    if (!this.#usable()) return;
    try {
      await this.#client.del(this.#key('c', key));
      this.#outage.recovered();
    } catch (error) {
      this.#outage.failed(error);
    }
  }

  /** `degraded` while Redis is unreachable (limits then count per node). */
  health(): 'ok' | 'degraded' {
    return this.#client.status !== 'ready' || this.#outage.failing ? 'degraded' : 'ok';
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#probe);
    await this.#local.close();
    await quitOrDisconnect(this.#client);
  }
}
