/**
 * `npm run bench`: the DESIGN.md performance targets, measured in one run against one server
 * (bench/server.ts, in its own process) and printed as ratios within the run:
 *
 *   1. routes: the same bare route, behind Tokenward's `requireSession()` (cookie and Bearer), and
 *      behind the peer library `hono/jwt` (HS256 and EdDSA Bearer tokens) — each ratioed against
 *      the bare route (target for Tokenward ≥ 0.90×);
 *   2. refresh rotations through HTTP on the embedded SQLite store, 50 sessions rotating in
 *      parallel (target ≥ 4,000/s, p99 < 20 ms);
 *   3. login storm: protected-route p99 while argon2id logins run flat out, against the same
 *      measurement without them (target ≤ 1.5×).
 *
 *   BENCH_SECONDS=5 npm run bench      (seconds per measurement; the whole run takes ≈ 20× that)
 *   BENCH_ROUNDS=3                     (rounds of the route comparison; medians are printed)
 *   BENCH_ONLY=routes,refresh,storm    (a subset)
 *   BENCH_STORM_RATE=2000              (protected-route requests/s during the storm measurement)
 */
import {
  cpuSeconds,
  fmt,
  load,
  loginStorm,
  measure,
  median,
  refreshLoad,
  signupUser,
  startServer,
  timedLoad,
} from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const only = new Set((process.env.BENCH_ONLY ?? 'routes,refresh,storm').split(','));
const STORM_CONCURRENCY = 16;
const STORM_RATE = Number(process.env.BENCH_STORM_RATE ?? 2000);

/** The bench server's event-loop delay since the previous call (ms). */
async function loopDelay(url: string): Promise<{ p50: number; p99: number; max: number }> {
  return (await (await fetch(`${url}/bench/loop-delay`)).json()) as { p50: number; p99: number; max: number };
}

interface Verdict {
  target: string;
  measured: string;
  pass: boolean;
}
const verdicts: Verdict[] = [];
const mark = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

const server = await startServer();
try {
  const email = `bench${Math.random().toString(36).slice(2)}@example.com`;
  const jar = await signupUser(server.url, email);
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const accessToken = [...jar].find(([k]) => k.endsWith('tw_at'))?.[1];
  if (accessToken === undefined) throw new Error('no access-token cookie after signup');
  const peer = (await (await fetch(`${server.url}/bench/peer-tokens`)).json()) as { hs256: string; eddsa: string };
  console.log(
    `Tokenward benchmark — ${seconds}s per measurement, 50 connections, server in its own process (${new Date().toISOString().slice(0, 16)}Z)\n`,
  );

  if (only.has('routes')) {
    const routes: Array<{ name: string; path: string; headers: Record<string, string> }> = [
      // The bare route gets the same cookie a browser would send it: the ratio is the guard's cost alone.
      { name: 'bare (same cookie header)', path: '/api/ping', headers: { cookie } },
      { name: 'bare (no credentials)', path: '/api/ping', headers: {} },
      { name: 'Tokenward requireSession, cookie', path: '/api/ping/protected', headers: { cookie } },
      {
        name: 'Tokenward requireSession, Bearer',
        path: '/api/ping/protected',
        headers: { authorization: `Bearer ${accessToken}` },
      },
      {
        name: 'hono/jwt HS256, Bearer (peer)',
        path: '/api/ping/hono-jwt-hs256',
        headers: { authorization: `Bearer ${peer.hs256}` },
      },
      {
        name: 'hono/jwt EdDSA, Bearer (peer)',
        path: '/api/ping/hono-jwt-eddsa',
        headers: { authorization: `Bearer ${peer.eddsa}` },
      },
    ];
    const pid = server.child.pid as number;
    // Warm up every path (JIT, verified-token cache); then rounds of bare + guarded runs back to
    // back, each guarded run ratioed to its own round's bare run, medians over the rounds.
    for (const r of routes) await load(`${server.url}${r.path}`, { seconds: 1, headers: r.headers });
    const runs = routes.map(() => [] as Array<{ rps: number; p99: number; cpuUs: number }>);
    for (let round = 0; round < rounds; round++) {
      for (const [i, r] of routes.entries()) {
        const result = await measure(`${server.url}${r.path}`, pid, { seconds, headers: r.headers });
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${r.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        runs[i]?.push(result);
      }
    }
    const bare = runs[0] ?? [];
    console.log(
      `1. the same route, bare and guarded (autocannon; median of ${rounds} rounds; ratio to the bare run of the same round)`,
    );
    console.log(
      `   ${''.padEnd(36)} ${'req/s'.padStart(7)}   ${'p99'.padStart(8)}   ${'ratio'.padStart(5)}   ${'server CPU/req'.padStart(14)}`,
    );
    for (const [i, r] of routes.entries()) {
      const own = runs[i] ?? [];
      const ratio = median(own.map((x, k) => x.rps / (bare[k]?.rps ?? Number.NaN)));
      const cpuRatio = median(own.map((x, k) => (bare[k]?.cpuUs ?? Number.NaN) / x.cpuUs));
      console.log(
        `   ${r.name.padEnd(36)} ${fmt(median(own.map((x) => x.rps))).padStart(7)}   ${`${fmt(median(own.map((x) => x.p99)), 1)} ms`.padStart(8)}   ${`${ratio.toFixed(2)}×`.padStart(5)}   ${`${fmt(median(own.map((x) => x.cpuUs)), 1)} µs`.padStart(10)} (${cpuRatio.toFixed(2)}×)`,
      );
      if (i === 2 || i === 3)
        verdicts.push({ target: `${r.name} ≥ 0.90× bare`, measured: `${ratio.toFixed(2)}×`, pass: ratio >= 0.9 });
    }
    console.log(
      '   (ratio: guarded req/s ÷ bare req/s; in brackets: bare CPU per request ÷ guarded CPU per request)\n',
    );
  }

  if (only.has('refresh')) {
    const pid = server.child.pid as number;
    await refreshLoad(server.url, { seconds: 1, connections: 10 }); // warm-up (JIT, SQLite page cache)
    const sessions = await Promise.all(Array.from({ length: 50 }, () => signupUser(server.url)));
    const cpuBefore = cpuSeconds(pid);
    await loopDelay(server.url);
    const refresh = await refreshLoad(server.url, { seconds, sessions });
    const loop = await loopDelay(server.url);
    const cpuUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, refresh.count);
    console.log('2. refresh rotation through HTTP (embedded SQLite, 50 sessions rotating in parallel)');
    console.log(
      `   ${fmt(refresh.rps)} rotations/s   p50 ${fmt(refresh.p50, 1)} ms   p99 ${fmt(refresh.p99, 1)} ms   (${refresh.count} rotations, ${refresh.non2xx} failed)`,
    );
    console.log(
      `   server CPU ≈ ${fmt(cpuUs)} µs per rotation (≈ ${fmt(1e6 / cpuUs)}/s if it had a core to itself); server event-loop delay p99 ${fmt(loop.p99, 1)} ms, max ${fmt(loop.max, 1)} ms\n`,
    );
    verdicts.push({
      target: 'refresh ≥ 4,000/s',
      measured: `${fmt(refresh.rps)}/s`,
      pass: refresh.rps >= 4000 && refresh.non2xx === 0,
    });
    verdicts.push({ target: 'refresh p99 < 20 ms', measured: `${fmt(refresh.p99, 1)} ms`, pass: refresh.p99 < 20 });
  }

  if (only.has('storm')) {
    // A fixed request rate well below saturation: on a 2-core machine that also runs the load
    // generator, a saturating client would measure CPU sharing, not event-loop blocking.
    const url = `${server.url}/api/ping/protected`;
    const shape = { headers: { cookie }, connections: 20, rate: STORM_RATE };
    const accounts = Array.from(
      { length: STORM_CONCURRENCY },
      (_, i) => `storm${i}-${Math.random().toString(36).slice(2)}@example.com`,
    );
    for (const account of accounts) await signupUser(server.url, account);
    await timedLoad(url, { ...shape, seconds: 1 });
    // Rounds of calm / storm back to back, medians: one noisy second on a shared machine does not decide.
    const calm: Array<Awaited<ReturnType<typeof timedLoad>>> = [];
    const stormy: Array<Awaited<ReturnType<typeof timedLoad>>> = [];
    let logins = { ok: 0, failed: 0 };
    for (let round = 0; round < rounds; round++) {
      calm.push(await timedLoad(url, { ...shape, seconds }));
      const stop = new AbortController();
      const storm = loginStorm(server.url, accounts, { signal: stop.signal });
      await new Promise((r) => setTimeout(r, 500)); // let the hash queue fill
      stormy.push(await timedLoad(url, { ...shape, seconds }));
      stop.abort();
      const done = await storm;
      logins = { ok: logins.ok + done.ok, failed: logins.failed + done.failed };
    }
    const m = (xs: Array<Awaited<ReturnType<typeof timedLoad>>>, k: 'rps' | 'p50' | 'p99') =>
      median(xs.map((x) => x[k]));
    const ratio = m(stormy, 'p99') / m(calm, 'p99');
    console.log(
      `3. login storm: protected route (cookie) at ${fmt(STORM_RATE)} req/s while ${STORM_CONCURRENCY} clients log in back to back (argon2id, one account each; median of ${rounds} rounds)`,
    );
    console.log(
      `   without logins  ${fmt(m(calm, 'rps')).padStart(7)} req/s   p50 ${fmt(m(calm, 'p50'), 2)} ms   p99 ${fmt(m(calm, 'p99'), 2)} ms   (p99 per round: ${calm.map((x) => fmt(x.p99, 1)).join(', ')})`,
    );
    console.log(
      `   during logins   ${fmt(m(stormy, 'rps')).padStart(7)} req/s   p50 ${fmt(m(stormy, 'p50'), 2)} ms   p99 ${fmt(m(stormy, 'p99'), 2)} ms   (p99 per round: ${stormy.map((x) => fmt(x.p99, 1)).join(', ')}; ${fmt(logins.ok / (rounds * (seconds + 0.5)))} logins/s, ${logins.failed} refused)`,
    );
    console.log(`   p99 ratio ${ratio.toFixed(2)}×\n`);
    if ([...stormy, ...calm].some((x) => x.non2xx > 0))
      throw new Error('protected route answered non-2xx during the storm bench');
    verdicts.push({
      target: 'login storm: protected p99 ≤ 1.5×',
      measured: `${ratio.toFixed(2)}×`,
      pass: ratio <= 1.5,
    });
  }

  console.log('Summary (one run on this machine; compare within a run)');
  for (const v of verdicts) console.log(`   ${v.target.padEnd(46)} ${v.measured.padStart(10)}   ${mark(v.pass)}`);
} finally {
  await server.stop();
}
