/**
 * `npm run bench`: throughput of a protected route against the same bare route through the
 * same server (ratio; target ≥ 0.9×), and refresh rotations/s with p99 on the embedded store
 * (target ≥ 4,000/s, p99 < 20 ms at 50 connections). One run, same machine: compare within it.
 */
import { fmt, load, refreshLoad, signupUser, startServer } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const server = await startServer();
try {
  const jar = await signupUser(server.url);
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  console.log(`Tokenward benchmark — ${seconds}s per run, 50 connections, server in its own process\n`);

  // Warm up both paths (JIT, verified-token cache).
  await load(`${server.url}/api/ping`, { seconds: 2 });
  await load(`${server.url}/api/ping/protected`, { seconds: 2, headers: { cookie } });

  const bare = await load(`${server.url}/api/ping`, { seconds });
  const guarded = await load(`${server.url}/api/ping/protected`, { seconds, headers: { cookie } });
  if (guarded.non2xx > 0) throw new Error(`protected route answered ${guarded.non2xx} non-2xx responses`);
  const ratio = guarded.rps / bare.rps;
  console.log('protected route vs the same bare route');
  console.log(`  bare       ${fmt(bare.rps)} req/s   p50 ${fmt(bare.p50, 1)} ms   p99 ${fmt(bare.p99, 1)} ms`);
  console.log(`  protected  ${fmt(guarded.rps)} req/s   p50 ${fmt(guarded.p50, 1)} ms   p99 ${fmt(guarded.p99, 1)} ms`);
  console.log(`  ratio      ${ratio.toFixed(2)}×  (target ≥ 0.90×) ${ratio >= 0.9 ? 'OK' : 'BELOW TARGET'}\n`);

  const refresh = await refreshLoad(server.url, { seconds });
  console.log('refresh rotation through HTTP (embedded SQLite, 50 sessions rotating in parallel)');
  console.log(`  ${fmt(refresh.rps)} rotations/s   p50 ${fmt(refresh.p50, 1)} ms   p99 ${fmt(refresh.p99, 1)} ms   (${refresh.count} rotations, ${refresh.non2xx} failed)`);
  console.log(`  vs bare route: ${(refresh.rps / bare.rps).toFixed(2)}×   target ≥ 4,000/s, p99 < 20 ms: ${refresh.rps >= 4000 && refresh.p99 < 20 ? 'OK' : 'BELOW TARGET'}`);
} finally {
  await server.stop();
}
