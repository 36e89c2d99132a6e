import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLimiter } from '../../src/limiter/redis-limiter.js';
import { type RedisService, startRedis } from '../../tools/services.mjs';

const sharedUrl = process.env.TOKENWARD_TEST_REDIS_URL;
const POLICY = { freeFailures: 5, baseSec: 1, maxSec: 900 };

/** A logger that remembers what it was told. */
function recordingLogger(): {
  lines: Array<{ level: string; message: string }>;
  error: (o: object, m: string) => void;
  warn: (o: object, m: string) => void;
} {
  const lines: Array<{ level: string; message: string }> = [];
  return {
    lines,
    error: (_o, message) => lines.push({ level: 'error', message }),
    warn: (_o, message) => lines.push({ level: 'warn', message }),
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - start;
}

if (sharedUrl === undefined || sharedUrl === '') {
  describe.skip('redis limiter: skipped because TOKENWARD_TEST_REDIS_URL is not set (npm test sets it)', () => {
    it('shares limits between nodes through a real Redis', () => {});
  });
} else {
  describe('redis limiter › shared between nodes', () => {
    // Two limiters = two nodes; a fresh prefix per run keeps parallel files and old runs apart.
    const keyPrefix = `twtest:${randomUUID().slice(0, 8)}:`;
    let a: RedisLimiter;
    let b: RedisLimiter;
    beforeAll(async () => {
      a = new RedisLimiter({ url: sharedUrl, keyPrefix });
      b = new RedisLimiter({ url: sharedUrl, keyPrefix });
      expect(await a.ready(5000)).toBe(true);
      expect(await b.ready(5000)).toBe(true);
    });
    afterAll(async () => {
      await Promise.all([a.close(), b.close()]);
    });

    it('a fixed window counts hits from every node together', async () => {
      const key = `login:ip:${randomUUID()}`;
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await a.consume(key, 5, 60));
      for (let i = 0; i < 2; i++) results.push(await b.consume(key, 5, 60));
      expect(results.every((r) => r.allowed)).toBe(true);
      const sixth = await a.consume(key, 5, 60);
      expect(sixth.allowed).toBe(false);
      expect(sixth.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(sixth.retryAfterSec).toBeLessThanOrEqual(60);
      expect((await b.consume(key, 5, 60)).allowed).toBe(false);
      // Another key is untouched.
      expect((await b.consume(`${key}:other`, 5, 60)).allowed).toBe(true);
    });

    it('concurrent hits on two nodes never let more than the limit through', async () => {
      const key = `signup:ip:${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).consume(key, 10, 60)));
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
    });

    it('a window ends after windowSec', async () => {
      const key = `mfa:${randomUUID()}`;
      expect((await a.consume(key, 1, 1)).allowed).toBe(true);
      expect((await b.consume(key, 1, 1)).allowed).toBe(false);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await b.consume(key, 1, 1)).allowed).toBe(true);
    });

    it('backoff: 5 attempts reserved on one node make the next one on another back off; a success clears what was counted up to it', async () => {
      const key = `login:acct:${randomUUID()}@example.com`;
      const reserved = [];
      for (let i = 0; i < 4; i++) reserved.push(await a.reserveAttempt(key, POLICY));
      expect(reserved.every((r) => r.allowed)).toBe(true);
      expect(await b.backoffStatus(key)).toEqual({ allowed: true, retryAfterSec: 0 });
      expect((await a.reserveAttempt(key, POLICY)).allowed).toBe(true);
      const refused = await b.reserveAttempt(key, POLICY);
      expect(refused).toEqual({ allowed: false, retryAfterSec: 1 });
      // The third attempt turns out right: attempts 1–3 are forgotten, 4 and 5 stay counted.
      const third = reserved[2];
      if (!third?.allowed) throw new Error('unreachable');
      await third.succeeded();
      expect((await a.backoffStatus(key)).allowed).toBe(true);
      for (let i = 0; i < 3; i++) expect((await b.reserveAttempt(key, POLICY)).allowed).toBe(true);
      expect((await a.reserveAttempt(key, POLICY)).allowed).toBe(false);
    });

    it('backoff is capped at maxSec', async () => {
      const key = `login:acct:${randomUUID()}`;
      expect((await a.reserveAttempt(key, { freeFailures: 1, baseSec: 100, maxSec: 7 })).allowed).toBe(true);
      expect(await b.reserveAttempt(key, { freeFailures: 1, baseSec: 100, maxSec: 7 })).toEqual({
        allowed: false,
        retryAfterSec: 7,
      });
    });

    it('40 attempts reserved at once on two nodes: exactly the 5 free ones are allowed', async () => {
      const key = `login:acct:${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).reserveAttempt(key, { freeFailures: 5, baseSec: 1, maxSec: 900 }),
        ),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      for (const r of results) if (!r.allowed) expect(r.retryAfterSec).toBe(1);
    });

    it('releaseClaim gives a claim back on every node', async () => {
      const key = `stepup:grant:${randomUUID()}`;
      expect(await a.claimOnce(key, 60)).toBe(true);
      expect(await b.claimOnce(key, 60)).toBe(false);
      await a.releaseClaim(key);
      expect(await b.claimOnce(key, 60)).toBe(true);
      expect(await a.claimOnce(key, 60)).toBe(false);
    });

    it('claimOnce: the first claim on any node wins, every later one (any node) loses, until the TTL', async () => {
      const key = `dpop:jti:${randomUUID()}`;
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimOnce(key, 1)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await a.claimOnce(key, 1)).toBe(false);
      expect(await b.claimOnce(key, 1)).toBe(false);
    });

    it('keys in Redis are digests, never the emails or addresses themselves', async () => {
      const email = `${randomUUID()}@example.com`;
      await a.reserveAttempt(`login:acct:${email}`, POLICY);
      await a.consume(`login:ip:${email}`, 5, 60);
      const { Redis } = await import('ioredis');
      const client = new Redis(sharedUrl);
      try {
        const keys = await client.keys(`${keyPrefix}*`);
        expect(keys.length).toBeGreaterThan(0);
        for (const k of keys) expect(k).not.toContain(email);
      } finally {
        client.disconnect();
      }
    });

    it('health is ok while Redis answers', () => {
      expect(a.health()).toBe('ok');
      expect(b.health()).toBe('ok');
    });
  });

  describe('redis limiter › Redis outage (own Redis server)', () => {
    let redis: RedisService;
    let a: RedisLimiter;
    let b: RedisLimiter;
    const logger = recordingLogger();
    beforeAll(async () => {
      redis = await startRedis();
      a = new RedisLimiter({ url: redis.url, logger });
      b = new RedisLimiter({ url: redis.url });
      expect(await a.ready(5000)).toBe(true);
      expect(await b.ready(5000)).toBe(true);
    });
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await redis?.stop();
    });

    it('keeps enforcing limits per node while Redis is down (never fails open), answers fast, says degraded, and shares again after a restart', async () => {
      await redis.kill();
      await until(() => a.health() === 'degraded', 3000);

      // Windows: at most `limit` per node.
      const key = `login:ip:${randomUUID()}`;
      const started = Date.now();
      const onA = [];
      for (let i = 0; i < 5; i++) onA.push(await a.consume(key, 3, 60));
      expect(onA.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
      expect(onA[3]?.retryAfterSec).toBeGreaterThanOrEqual(1);

      // Backoff: counted on the node that saw the failures.
      const account = `login:acct:${randomUUID()}`;
      for (let i = 0; i < 5; i++) await a.reserveAttempt(account, POLICY);
      expect((await a.backoffStatus(account)).allowed).toBe(false);

      // Claims: single use per node.
      const claim = `stepup:grant:${randomUUID()}`;
      expect(await a.claimOnce(claim, 60)).toBe(true);
      expect(await a.claimOnce(claim, 60)).toBe(false);
      // Nothing waited for the dead server.
      expect(Date.now() - started).toBeLessThan(1000);
      expect(a.health()).toBe('degraded');
      // The outage was logged once, not once per call.
      expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);

      await redis.restart();
      const recoveredIn = await until(() => a.health() === 'ok' && b.health() === 'ok', 5000);
      expect(recoveredIn).toBeLessThan(5000);
      expect(logger.lines.some((l) => l.level === 'warn' && /reachable again/.test(l.message))).toBe(true);

      // The outage's local backoff still holds on that node after the recovery...
      expect((await a.backoffStatus(account)).allowed).toBe(false);
      // ...and so does a claim made during the outage.
      expect(await a.claimOnce(claim, 60)).toBe(false);

      // Counting is shared again.
      const shared = `login:ip:${randomUUID()}`;
      expect((await a.consume(shared, 2, 60)).allowed).toBe(true);
      expect((await b.consume(shared, 2, 60)).allowed).toBe(true);
      expect((await a.consume(shared, 2, 60)).allowed).toBe(false);
      const again = `login:acct:${randomUUID()}`;
      for (let i = 0; i < 5; i++) await b.reserveAttempt(again, POLICY);
      expect((await a.backoffStatus(again)).allowed).toBe(false);
    });

    it('a hung Redis (connected, silent) costs each call at most the command timeout, then counts locally; it recovers on its own', async () => {
      redis.pause();
      try {
        const key = `login:ip:${randomUUID()}`;
        const account = `login:acct:${randomUUID()}`;
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['consume', () => a.consume(key, 1, 60)],
          ['reserveAttempt', () => a.reserveAttempt(account, { freeFailures: 1, baseSec: 30, maxSec: 60 })],
          ['backoffStatus', () => a.backoffStatus(account)],
          ['claimOnce', () => a.claimOnce(`c:${randomUUID()}`, 60)],
        ];
        const started = Date.now();
        for (const [name, call] of calls) {
          const t = Date.now();
          await call();
          expect({ name, fast: Date.now() - t < 1500 }).toEqual({ name, fast: true });
        }
        // Once the first call timed out, the others did not wait for Redis again.
        expect(Date.now() - started).toBeLessThan(1500);
        expect(a.health()).toBe('degraded');
        // Still never fails open: the second hit of a limit-1 window and the backed-off account are refused.
        expect((await a.consume(key, 1, 60)).allowed).toBe(false);
        expect((await a.backoffStatus(account)).allowed).toBe(false);
      } finally {
        redis.resume();
      }
      await until(() => a.health() === 'ok', 5000);
    });
  });
}
