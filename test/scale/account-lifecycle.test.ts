// The account lifecycle on three Tokenward processes sharing PostgreSQL and Redis: a deletion or an
// administrator's disable ends the user's access tokens on every node within 1 s (checked on a
// route that only runs the middleware, so nothing but the revocation can refuse them); a link
// raced across the nodes is used exactly once; the mail limits are shared through Redis.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../../tools/services.mjs';
import { runTokenward } from '../cli/cli-helpers.js';
import { ScratchDatabases } from '../cli/pg-database.js';
import type { ServerProcess } from '../support/process.js';
import {
  type Cluster,
  ClusterBrowser,
  PASSWORD,
  PUBLIC_ORIGIN,
  pingWithBearer,
  signupOn,
  startCluster,
} from './cluster.js';

const base = process.env.TOKENWARD_TEST_DATABASE_URL;

interface OutboxMail {
  to: string;
  subject: string;
  text: string;
}

/** The mails a node kept (each node has its own in-process outbox). */
async function outboxOf(node: ServerProcess): Promise<OutboxMail[]> {
  const response = await fetch(new URL('/outbox', node.url), { headers: { accept: 'application/json' } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { mails: OutboxMail[] }).mails;
}

function tokenOf(mail: OutboxMail, page: string): string {
  const line = mail.text.split('\n').find((l) => l.includes(`/account/${page}?token=`)) ?? '';
  return new URL(line.trim()).searchParams.get('token') ?? '';
}

function post(node: ServerProcess | undefined, path: string, body: unknown, ip?: string): Promise<Response> {
  if (!node) throw new Error('no node');
  return fetch(new URL(path, node.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      ...(ip ? { 'x-forwarded-for': ip } : {}),
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

/** Polls every node with the token until all refuse it; the time from `since` to the last refusal. */
async function refusedEverywhere(nodes: ServerProcess[], accessToken: string, since: number): Promise<number> {
  const pending = new Set(nodes);
  for (;;) {
    for (const node of [...pending]) if ((await pingWithBearer(node, accessToken)).status === 401) pending.delete(node);
    if (pending.size === 0) return performance.now() - since;
    if (performance.now() - since > 5000) throw new Error(`${pending.size} node(s) still accept the token after 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

if (base === undefined || base === '') {
  describe.skip('account lifecycle on PostgreSQL + Redis ×3: TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)', () => {
    it('runs against three nodes', () => {});
  });
} else {
  describe('account lifecycle › three nodes on PostgreSQL + Redis', () => {
    const databases = new ScratchDatabases(base);
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let cluster: Cluster;
    let nodes: ServerProcess[] = [];
    let env: Record<string, string> = {};

    beforeAll(async () => {
      redis = await startRedis();
      const databaseUrl = await databases.create('lifecycle');
      env = {
        TOKENWARD_DATABASE_URL: databaseUrl,
        TOKENWARD_REDIS_URL: redis.url,
        TOKENWARD_SECRET: randomBytes(48).toString('base64url'),
        TOKENWARD_PUBLIC_ORIGIN: PUBLIC_ORIGIN,
        // The nodes run on loopback: the test names each request's address, so per-IP limits key it.
        TOKENWARD_TRUST_PROXY: '1',
      };
      cluster = await startCluster({ databaseUrl, redisUrl: redis.url, count: 3, env });
      nodes = cluster.nodes;
    }, 90_000);
    afterAll(async () => {
      await cluster?.close();
      await Promise.allSettled([redis?.stop(), databases.dropAll()]);
    });

    it('DELETE /auth/account on one node: the old access token dies on every node within 1 s', async () => {
      const latencies: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { browser } = await signupOn(nodes[i % 3]);
        const accessToken = browser.accessToken();
        for (const node of nodes) expect((await pingWithBearer(node, accessToken)).status).toBe(200);
        expect(
          (await browser.on(nodes[(i + 1) % 3], '/auth/step-up', { method: 'POST', json: { password: PASSWORD } }))
            .status,
        ).toBe(200);
        const started = performance.now();
        expect((await browser.on(nodes[(i + 2) % 3], '/auth/account', { method: 'DELETE' })).status).toBe(204);
        latencies.push(await refusedEverywhere(nodes, accessToken, started));
      }
      console.log(
        `[lifecycle] deletion → token refused on all 3 nodes: ${latencies.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`,
      );
      for (const ms of latencies) expect(ms).toBeLessThan(1000);
    });

    it('tokenward users disable (the real CLI, same database, Redis and secret): the tokens die on every node within 1 s of the revocation; login and refresh answer 403 account_disabled everywhere', {
      timeout: 60_000,
    }, async () => {
      const { browser, email, sessionId } = await signupOn(nodes[0]);
      const second = new ClusterBrowser();
      const login = await second.on(nodes[1], '/auth/login', { method: 'POST', json: { email, password: PASSWORD } });
      expect(login.status).toBe(200);
      const secondSession = ((await login.json()) as { session: { id: string } }).session.id;
      const tokens = [browser.accessToken(), second.accessToken()];
      // Every node is watched while the CLI runs: when did each stop accepting each token?
      const refusedAt = new Map<string, number>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const [n, node] of nodes.entries())
            for (const [i, token] of tokens.entries())
              if (!refusedAt.has(`${n}:${i}`) && (await pingWithBearer(node, token)).status === 401)
                refusedAt.set(`${n}:${i}`, Date.now());
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const run = await runTokenward(['users', 'disable', email, '--yes'], env);
      expect(run.code, run.stderr).toBe(0);
      const deadline = Date.now() + 3000;
      while (refusedAt.size < nodes.length * tokens.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      watching = false;
      await watch;
      expect(refusedAt.size).toBe(nodes.length * tokens.length);
      // The revocation's own time, as the CLI's kernel recorded it in the shared database.
      const { rows } = await databases.query(
        env.TOKENWARD_DATABASE_URL ?? '',
        'select min(at)::bigint as at from revocations where session_id = any($1)',
        [[sessionId, secondSession]],
      );
      const revokedAt = Number(rows[0]?.at);
      const latencies = [...refusedAt.values()].map((at) => at - revokedAt);
      console.log(
        `[lifecycle] disable (CLI) → token refused on every node ${Math.min(...latencies)}–${Math.max(...latencies)} ms after the revocation`,
      );
      for (const ms of latencies) expect(ms).toBeLessThan(1000);
      for (const node of nodes) {
        const again = await post(node, '/auth/login', { email, password: PASSWORD });
        expect(again.status).toBe(403);
        expect(((await again.json()) as { code: string }).code).toBe('account_disabled');
      }
      for (const [b, node] of [
        [browser, nodes[1]],
        [second, nodes[2]],
      ] as const) {
        const refresh = await b.on(node, '/auth/refresh', { method: 'POST' });
        expect(refresh.status).toBe(403);
        expect(((await refresh.json()) as { code: string }).code).toBe('account_disabled');
      }
    });

    it('one reset link sent to all three nodes at once, 10 times each: exactly one reset', async () => {
      const { email } = await signupOn(nodes[0]);
      expect((await post(nodes[1], '/auth/password/forgot', { email }, '198.51.100.31')).status).toBe(202);
      let mail: OutboxMail | undefined;
      for (let i = 0; i < 100 && !mail; i++) {
        mail = (await outboxOf(nodes[1] as ServerProcess)).find((m) => m.to === email && /reset/i.test(m.subject));
        if (!mail) await new Promise((r) => setTimeout(r, 20));
      }
      const token = tokenOf(mail as OutboxMail, 'reset-password');
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          post(
            nodes[i % 3],
            '/auth/password/reset',
            { token, password: `new passphrase number ${i}` },
            `192.0.2.${i + 1}`,
          ),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 400)).toHaveLength(29);
      const winner = statuses.indexOf(200);
      expect((await post(nodes[2], '/auth/login', { email, password: `new passphrase number ${winner}` })).status).toBe(
        200,
      );
    });

    it('the mail limits are shared: 3 reset mails per address per hour across all nodes', async () => {
      const { email } = await signupOn(nodes[0]);
      for (let i = 0; i < 6; i++)
        expect((await post(nodes[i % 3], '/auth/password/forgot', { email }, `203.0.113.${40 + i}`)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 300));
      let sent = 0;
      for (const node of nodes)
        sent += (await outboxOf(node)).filter((m) => m.to === email && /reset/i.test(m.subject)).length;
      expect(sent).toBe(3);
    });
  });
}
