// Scale-out (DESIGN.md "Scale-out"): three Tokenward processes behind no load balancer at all,
// one PostgreSQL and one Redis of their own (this file stops and restarts them), every request
// sent to whichever node the test chooses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresService, type RedisService, startPostgres, startRedis } from '../../tools/services.mjs';
import type { ServerProcess } from '../support/process.js';
import {
  type Cluster,
  ClusterBrowser,
  freshEmail,
  health,
  loginAttempt,
  measureRevocation,
  PASSWORD,
  pingWithBearer,
  profileWithBearer,
  refreshWith,
  signupOn,
  startCluster,
  waitFor,
} from './cluster.js';

describe('scale-out › three nodes on PostgreSQL + Redis', () => {
  let postgres: PostgresService;
  let redis: RedisService;
  let cluster: Cluster;
  let A: ServerProcess | undefined;
  let B: ServerProcess | undefined;
  let C: ServerProcess | undefined;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    cluster = await startCluster({ databaseUrl: postgres.url, redisUrl: redis.url, count: 3 });
    [A, B, C] = cluster.nodes;
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
    await Promise.allSettled([postgres?.stop(), redis?.stop()]);
  });

  it('every node answers /healthz ok', async () => {
    for (const node of [A, B, C]) expect(await health(node)).toMatchObject({ code: 200, status: 'ok' });
  });

  it('a session started on one node works on every other node (shared keys and store)', async () => {
    const { browser, userId } = await signupOn(A);
    for (const node of [B, C]) {
      const response = await profileWithBearer(node, browser.accessToken());
      expect(response.status).toBe(200);
      expect(((await response.json()) as { user: { id: string } }).user.id).toBe(userId);
    }
  });

  it('logout on node A: the old access token is rejected on node C within 1 s (Redis fan-out)', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { browser } = await signupOn(A);
      latencies.push(await measureRevocation(A, C, browser));
    }
    console.log(`[scale] cross-node revocation with Redis: ${latencies.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
    for (const ms of latencies) expect(ms).toBeLessThan(1000);
  });

  it('login backoff is shared: 5 failures on node A, then the next attempt on node B gets 429 with Retry-After', async () => {
    const { email } = await signupOn(A);
    for (let i = 0; i < 5; i++) {
      const response = await loginAttempt(A, email, 'wrong password guess');
      expect(response.status).toBe(401);
    }
    const sixth = await loginAttempt(B, email, PASSWORD);
    expect(sixth.status).toBe(429);
    expect(((await sixth.json()) as { code: string }).code).toBe('too_many_attempts');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('50 concurrent refreshes of one refresh token from one browser over 3 nodes: exactly one successor, session alive, no reuse revocation', async () => {
    const { browser, sessionId } = await signupOn(A);
    const token = browser.refreshToken();
    const device = browser.deviceId();
    const nodes = [A, B, C];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => refreshWith(nodes[i % 3], token, { device })),
    );
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses]).toEqual([200]);
    expect(results.some((r) => r.cleared)).toBe(false);
    const successors = new Set(results.map((r) => r.successor));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).toMatch(/^twr_/);
    expect(successor).not.toBe(token);
    for (const r of results) expect((r.body.session as { id: string }).id).toBe(sessionId);

    // The chain goes on from the one successor, on any node; the session was not revoked.
    const next = await refreshWith(C, successor ?? '', { device });
    expect(next.status).toBe(200);
    expect(next.successor).toBeDefined();
    browser.cookies.set('__Secure-tw_rt', next.successor ?? '');
    const sessions = await browser.on(B, '/auth/sessions');
    expect(sessions.status).toBe(200);
    const list = ((await sessions.json()) as { sessions: Array<{ id: string }> }).sessions;
    expect(list.map((s) => s.id)).toContain(sessionId);
    const events = (await (await browser.on(A, '/auth/events')).json()) as { events: Array<{ type: string }> };
    expect(events.events.map((e) => e.type)).not.toContain('refresh.reuse_detected');
  });

  it('Redis killed mid-run: limits still enforced per node, /healthz degraded, protected routes work; after a restart healthz is ok and limits are shared again', async () => {
    const before = await signupOn(B);
    const { email } = await signupOn(A);
    await redis.kill();

    // Every node notices and says degraded (still 200: the store is fine).
    await waitFor(
      async () => (await Promise.all([A, B, C].map(health))).every((h) => h.code === 200 && h.status === 'degraded'),
      5000,
    );

    // Protected routes, refresh and a new login keep working, without waiting on Redis.
    const started = performance.now();
    expect((await profileWithBearer(C, before.browser.accessToken())).status).toBe(200);
    const refreshed = await refreshWith(A, before.browser.refreshToken());
    expect(refreshed.status).toBe(200);
    const login = new ClusterBrowser();
    expect((await login.on(C, '/auth/login', { method: 'POST', json: { email, password: PASSWORD } })).status).toBe(
      200,
    );
    expect(performance.now() - started).toBeLessThan(3000);

    // Login backoff still applies on the node that saw the failures (never fails open)...
    const victim = await signupOn(A);
    for (let i = 0; i < 5; i++) expect((await loginAttempt(A, victim.email, 'wrong password guess')).status).toBe(401);
    const blocked = await loginAttempt(A, victim.email, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // ...and revocations still reach other nodes (by polling the store) within 1 s.
    const revocationMs = await measureRevocation(A, C, login);
    console.log(`[scale] cross-node revocation with Redis down (polling): ${revocationMs.toFixed(0)} ms`);
    expect(revocationMs).toBeLessThan(1000);

    await redis.restart();
    const recoveredMs = await waitFor(
      async () => (await Promise.all([A, B, C].map(health))).every((h) => h.code === 200 && h.status === 'ok'),
      10_000,
      100,
    );
    console.log(`[scale] healthz ok again ${recoveredMs.toFixed(0)} ms after Redis came back`);

    // Shared again: 5 failures on C, the next attempt on B backs off.
    const shared = await signupOn(B);
    for (let i = 0; i < 5; i++) expect((await loginAttempt(C, shared.email, 'wrong password guess')).status).toBe(401);
    expect((await loginAttempt(B, shared.email, PASSWORD)).status).toBe(429);
    // And revocations travel over Redis again.
    const again = await signupOn(C);
    expect(await measureRevocation(C, A, again.browser)).toBeLessThan(1000);
  }, 60_000);

  it('PostgreSQL restarted mid-run: 503 problem+json during the outage (never 500, never hanging), everything works afterwards without restarting nodes, nothing lost, no double successor', async () => {
    const { browser, email, sessionId } = await signupOn(A);
    const first = await refreshWith(B, browser.refreshToken());
    expect(first.status).toBe(200);
    const r1 = first.successor ?? '';
    browser.cookies.set('__Secure-tw_rt', r1);
    const eventsBefore = (
      (await (await browser.on(C, '/auth/events')).json()) as { events: Array<{ type: string; at: string }> }
    ).events;
    expect(eventsBefore.length).toBeGreaterThan(0);

    const restart = postgres.restart({ downMs: 3000 });
    try {
      await waitFor(async () => (await health(B)).code === 503, 10_000, 50);
      const problems: Array<{ what: string; response: Response; ms: number }> = [];
      const timed = async (what: string, send: () => Promise<Response>): Promise<void> => {
        const t = performance.now();
        const response = await send();
        problems.push({ what, response, ms: performance.now() - t });
      };
      await Promise.all([
        timed('healthz', () => fetch(new URL('/healthz', A?.url))),
        timed('login', () => loginAttempt(B, email, PASSWORD)),
        timed('signup', () =>
          new ClusterBrowser().on(C, '/auth/signup', {
            method: 'POST',
            json: { email: freshEmail(), password: PASSWORD },
          }),
        ),
        timed('refresh', () =>
          fetch(new URL('/auth/refresh', C?.url), {
            method: 'POST',
            headers: { cookie: `__Secure-tw_rt=${r1}`, 'sec-fetch-site': 'same-origin' },
          }),
        ),
        timed('me', () =>
          fetch(new URL('/auth/me', A?.url), { headers: { authorization: `Bearer ${browser.accessToken()}` } }),
        ),
        timed('profile', () =>
          fetch(new URL('/api/profile', C?.url), { headers: { authorization: `Bearer ${browser.accessToken()}` } }),
        ),
        timed('sessions', () =>
          fetch(new URL('/auth/sessions', B?.url), { headers: { authorization: `Bearer ${browser.accessToken()}` } }),
        ),
      ]);
      for (const { what, response, ms } of problems) {
        expect({ what, status: response.status }).toEqual({ what, status: 503 });
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        expect(((await response.json()) as { code: string }).code).toBe('service_unavailable');
        expect(ms).toBeLessThan(5000);
        // A refresh that could not be decided keeps the browser's cookies.
        if (what === 'refresh') expect(response.headers.getSetCookie()).toEqual([]);
      }
      // A valid access token still passes the middleware on every node (no database read needed).
      for (const node of [A, B, C]) expect((await pingWithBearer(node, browser.accessToken())).status).toBe(200);
    } finally {
      await restart;
    }

    // Back without restarting any node (pools reconnect).
    const backMs = await waitFor(
      async () => (await Promise.all([A, B, C].map(health))).every((h) => h.code === 200),
      15_000,
      100,
    );
    console.log(`[scale] every node healthy ${backMs.toFixed(0)} ms after PostgreSQL came back`);

    // Nothing lost: the user, the session, the note; the refresh token presented during the outage is unused.
    const relogin = await loginAttempt(C, email, PASSWORD);
    expect(relogin.status).toBe(200);
    const sessions = (await (await browser.on(A, '/auth/sessions')).json()) as { sessions: Array<{ id: string }> };
    expect(sessions.sessions.map((s) => s.id)).toContain(sessionId);
    const eventsAfter = (
      (await (await browser.on(B, '/auth/events')).json()) as { events: Array<{ type: string; at: string }> }
    ).events;
    for (const event of eventsBefore) expect(eventsAfter).toContainEqual(event);
    const nodes = [A, B, C];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => refreshWith(nodes[i % 3], r1, { device: browser.deviceId() })),
    );
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([200]));
    const successors = new Set(results.map((r) => r.successor));
    expect(successors.size).toBe(1);
    for (const r of results) expect((r.body.session as { id: string }).id).toBe(sessionId);
    const [r2] = successors;
    expect((await refreshWith(B, r2 ?? '', { device: browser.deviceId() })).status).toBe(200);
    // No node died on the way (a broken pooled connection must never crash a process).
    for (const node of [A, B, C]) expect(node?.child.exitCode).toBeNull();
  }, 60_000);
});
