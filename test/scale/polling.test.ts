// Scale-out without Redis: revocations reach the other nodes by polling the store's
// `revocations` table every 500 ms (DESIGN.md "Data and invariants").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresService, startPostgres } from '../../tools/services.mjs';
import type { ServerProcess } from '../support/process.js';
import { type Cluster, health, measureRevocation, signupOn, startCluster } from './cluster.js';

describe('scale-out › two nodes on PostgreSQL without Redis', () => {
  let postgres: PostgresService;
  let cluster: Cluster;
  let A: ServerProcess | undefined;
  let B: ServerProcess | undefined;

  beforeAll(async () => {
    // The nodes inherit this environment: make sure no Redis is configured.
    delete process.env.TOKENWARD_REDIS_URL;
    postgres = await startPostgres();
    cluster = await startCluster({ databaseUrl: postgres.url, count: 2 });
    [A, B] = cluster.nodes;
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
    await postgres?.stop();
  });

  it('healthz is ok (in-process limiter and bus are not degraded)', async () => {
    for (const node of [A, B]) expect(await health(node)).toMatchObject({ code: 200, status: 'ok' });
  });

  it('logout on one node: the old access token is rejected on the other within 1 s, by polling', async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { browser } = await signupOn(i % 2 ? B : A);
      latencies.push(await measureRevocation(i % 2 ? B : A, i % 2 ? A : B, browser));
    }
    console.log(
      `[scale] cross-node revocation without Redis (polling): ${latencies.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`,
    );
    for (const ms of latencies) expect(ms).toBeLessThan(1000);
  });
});
