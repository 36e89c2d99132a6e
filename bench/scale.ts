/**
 * `npm run bench:scale`: Tokenward on PostgreSQL + Redis (its own throwaway servers, started with
 * tools/services.mjs), each node in its own process. Measured in one run on the same machine and
 * printed as ratios:
 *  - refresh rotations/s and p99 through HTTP on PostgreSQL (50 sessions rotating in parallel),
 *    against the protected route of the same node;
 *  - protected-route throughput with 1 node vs 2 nodes (the same 50 connections split over them).
 * On a 2-core machine the load generator, the nodes and the databases share the cores, so the
 * 2-node figure shows the cost of scale-out more than its gain.
 */
import { randomBytes } from 'node:crypto';
import { migrateDatabase } from '../src/store/index.js';
import { startPostgres, startRedis } from '../tools/services.mjs';
import { type BenchServer, fmt, type LoadResult, load, refreshLoad, signupUser, startServer } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 50;

/** Runs autocannon against several nodes at once (connections split evenly) and adds up. */
async function loadAcross(urls: string[], headers: Record<string, string>): Promise<LoadResult> {
  const share = Math.max(1, Math.floor(CONNECTIONS / urls.length));
  const results = await Promise.all(urls.map((url) => load(url, { seconds, connections: share, headers })));
  return {
    rps: results.reduce((sum, r) => sum + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
  };
}

const line = (label: string, r: LoadResult, unit = 'req/s'): string =>
  `  ${label.padEnd(10)} ${fmt(r.rps).padStart(7)} ${unit}   p50 ${fmt(r.p50, 1)} ms   p99 ${fmt(r.p99, 1)} ms${r.non2xx + r.errors > 0 ? `   (${r.non2xx} non-2xx, ${r.errors} errors)` : ''}`;

console.log(
  `Tokenward scale-out benchmark — ${seconds}s per run, ${CONNECTIONS} connections, PostgreSQL + Redis, nodes in their own processes\n`,
);
const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
const nodes: BenchServer[] = [];
try {
  await migrateDatabase({ databaseUrl: postgres.url });
  const env = {
    TOKENWARD_DATABASE_URL: postgres.url,
    TOKENWARD_REDIS_URL: redis.url,
    TOKENWARD_SECRET: randomBytes(48).toString('base64url'),
    TOKENWARD_PUBLIC_ORIGIN: 'http://localhost:3000',
  };
  const [first, second] = await Promise.all([startServer(env), startServer(env)]);
  if (!first || !second) throw new Error('nodes did not start');
  nodes.push(first, second);

  const jar = await signupUser(first.url);
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const headers = { cookie };
  const protectedUrl = (node: BenchServer): string => `${node.url}/api/ping/protected`;

  // Warm up both nodes (JIT, verified-token cache, pg pools).
  await Promise.all(nodes.map((node) => load(protectedUrl(node), { seconds: 2, headers })));
  await refreshLoad(first.url, { seconds: 1 });

  const refresh = await refreshLoad(first.url, { seconds, connections: CONNECTIONS });
  const oneNode = await loadAcross([protectedUrl(first)], headers);
  const twoNodes = await loadAcross(nodes.map(protectedUrl), headers);
  if (oneNode.non2xx + twoNodes.non2xx > 0) throw new Error('the protected route answered non-2xx responses');

  console.log('refresh rotation through HTTP on PostgreSQL (one node, 50 sessions rotating in parallel)');
  console.log(`${line('refresh', refresh, 'rot/s')}   (${refresh.count} rotations, ${refresh.non2xx} failed)`);
  console.log(`  vs the protected route of the same node: ${(refresh.rps / oneNode.rps).toFixed(2)}×\n`);
  console.log(`protected route (/api/ping/protected), ${CONNECTIONS} connections in total`);
  console.log(line('1 node', oneNode));
  console.log(line('2 nodes', twoNodes));
  console.log(
    `  ratio      ${(twoNodes.rps / oneNode.rps).toFixed(2)}× (2 nodes / 1 node; same machine, so bounded by its cores)`,
  );
} finally {
  await Promise.allSettled(nodes.map((node) => node.stop()));
  await Promise.allSettled([postgres.stop(), redis.stop()]);
}
