import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/bus/redis-bus.js';
import { MemoryLimiter } from '../../src/limiter/memory-limiter.js';
import { RedisLimiter } from '../../src/limiter/redis-limiter.js';
import { type RedisService, startRedis } from '../../tools/services.mjs';
import { createTestInstance } from '../support/instance.js';

const sharedUrl = process.env.TOKENWARD_TEST_REDIS_URL;

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (sharedUrl === undefined || sharedUrl === '') {
  describe.skip('createTokenward with redisUrl: skipped because TOKENWARD_TEST_REDIS_URL is not set (npm test sets it)', () => {
    it('uses the Redis limiter and bus', () => {});
  });
} else {
  describe('createTokenward › redisUrl', () => {
    it('uses the Redis limiter and bus, and /healthz says ok', async () => {
      const t = await createTestInstance({ redisUrl: sharedUrl });
      try {
        expect(t.tw.context.limiter).toBeInstanceOf(RedisLimiter);
        expect(t.tw.context.bus).toBeInstanceOf(RedisBus);
        const response = await t.request('/healthz');
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ status: 'ok' });
      } finally {
        await t.close();
      }
    });

    it('an explicit limiter wins over redisUrl (the bus still uses Redis)', async () => {
      const limiter = new MemoryLimiter();
      const t = await createTestInstance({ redisUrl: sharedUrl }, { limiter });
      try {
        expect(t.tw.context.limiter).toBe(limiter);
        expect(t.tw.context.bus).toBeInstanceOf(RedisBus);
      } finally {
        await t.close();
      }
    });
  });

  describe('createTokenward › Redis unreachable at start (own Redis server)', () => {
    let redis: RedisService;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('starts anyway, degraded but working, and becomes ok when Redis comes up', async () => {
      await redis.kill();
      const started = Date.now();
      const t = await createTestInstance({ redisUrl: redis.url });
      try {
        expect(Date.now() - started).toBeLessThan(10_000);
        const degraded = await t.request('/healthz');
        expect(degraded.status).toBe(200);
        expect(await degraded.json()).toEqual({ status: 'degraded' });
        const signup = await t.request('/auth/signup', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
          body: JSON.stringify({ email: `wiring-${Date.now()}@example.com`, password: 'correct horse battery staple' }),
        });
        expect(signup.status).toBe(201);

        await redis.start();
        await until(
          async () => ((await (await t.request('/healthz')).json()) as { status: string }).status === 'ok',
          10_000,
        );
      } finally {
        await t.close();
      }
    });
  });
}
