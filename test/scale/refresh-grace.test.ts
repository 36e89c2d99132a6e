// The refresh grace window across nodes (API.md "Tokens"): two Tokenward processes on one
// PostgreSQL (a database of this file's own on the shared test server) and the shared Redis. The
// graced successor goes only to the device that rotated the token, whichever node each request hits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresService, type RedisService, startPostgres, startRedis } from '../../tools/services.mjs';
import { ScratchDatabases } from '../cli/pg-database.js';
import type { ServerProcess } from '../support/process.js';
import {
  type Cluster,
  ClusterBrowser,
  PASSWORD,
  profileWithBearer,
  refreshWith,
  signupOn,
  startCluster,
  waitFor,
} from './cluster.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

describe('scale-out › refresh grace window on PostgreSQL + Redis, two nodes', () => {
  let postgres: PostgresService | undefined;
  let redis: RedisService | undefined;
  let databases: ScratchDatabases;
  let cluster: Cluster | undefined;
  let A: ServerProcess | undefined;
  let B: ServerProcess | undefined;

  beforeAll(async () => {
    // The shared test servers when npm test provides them, else throwaway ones: never skipped.
    let baseUrl = process.env.TOKENWARD_TEST_DATABASE_URL;
    if (!baseUrl) {
      postgres = await startPostgres();
      baseUrl = postgres.url;
    }
    let redisUrl = process.env.TOKENWARD_TEST_REDIS_URL;
    if (!redisUrl) {
      redis = await startRedis();
      redisUrl = redis.url;
    }
    databases = new ScratchDatabases(baseUrl);
    cluster = await startCluster({ databaseUrl: await databases.create('grace'), redisUrl, count: 2 });
    [A, B] = cluster.nodes;
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
    await databases?.dropAll();
    await Promise.allSettled([postgres?.stop(), redis?.stop()]);
  });

  it('grace window › a stolen rotated token from another device is reuse on the other node and revokes the session everywhere', async () => {
    const { browser, email, sessionId } = await signupOn(A);
    const stolen = browser.refreshToken();
    const rotated = await refreshWith(A, stolen, { device: browser.deviceId() });
    expect(rotated.status).toBe(200);
    const successor = rotated.successor as string;
    browser.cookies.set('__Secure-tw_rt', successor);
    const access = browser.accessToken();

    // Well inside the 10 s window, the thief (no device cookie, another browser) tries node B.
    const theft = await refreshWith(B, stolen, { userAgent: FIREFOX });
    expect(theft.status).toBe(401);
    expect(theft.body.code).toBe('refresh_reused');
    expect(theft.cleared).toBe(true);
    expect(theft.successor).toBeUndefined();

    // The session is dead on both nodes: the victim's successor and access token fail.
    const again = await refreshWith(A, successor, { device: browser.deviceId() });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('session_expired');
    await waitFor(
      async () =>
        (await Promise.all([A, B].map(async (node) => (await profileWithBearer(node, access)).status))).every(
          (s) => s === 401,
        ),
      1000,
    );

    // One reuse event for that session, visible from either node once the victim signs in again.
    const victim = new ClusterBrowser();
    expect((await victim.on(B, '/auth/login', { method: 'POST', json: { email, password: PASSWORD } })).status).toBe(
      200,
    );
    const { events } = (await (await victim.on(A, '/auth/events')).json()) as {
      events: Array<{ type: string; sessionId: string | null }>;
    };
    expect(events.filter((e) => e.type === 'refresh.reuse_detected').map((e) => e.sessionId)).toEqual([sessionId]);
  });

  it('ten racing tabs of one browser, spread over both nodes, share one successor and keep the session', async () => {
    const { browser, sessionId } = await signupOn(B);
    const token = browser.refreshToken();
    const device = browser.deviceId();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => refreshWith(i % 2 ? A : B, token, { device })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results.some((r) => r.cleared)).toBe(false);
    const successors = new Set(results.map((r) => r.successor));
    expect(successors.size).toBe(1);
    for (const r of results) expect((r.body.session as { id: string }).id).toBe(sessionId);
    const [successor] = successors;
    browser.cookies.set('__Secure-tw_rt', successor as string);
    expect((await browser.on(A, '/auth/refresh', { method: 'POST' })).status).toBe(200);
    const events = (await (await browser.on(B, '/auth/events')).json()) as { events: Array<{ type: string }> };
    expect(events.events.map((e) => e.type)).not.toContain('refresh.reuse_detected');
  });
});
