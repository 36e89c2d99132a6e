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
 *   BENCH_SECONDS=8 npm run bench      (seconds per measurement; the whole run takes ≈ 12× that)
 *   BENCH_ONLY=routes,refresh,storm    (a subset)
 *   BENCH_STORM_RATE=2000              (protected-route requests/s during the storm measurement)
 */
import { fmt, load, loginStorm, refreshLoad, signupUser, startServer, timedLoad } from './lib.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const only = new Set((process.env.BENCH_ONLY ?? 'routes,refresh,storm').split(','));
const STORM_CONCURRENCY = 16;
const STORM_RATE = Number(process.env.BENCH_STORM_RATE ?? 2000);

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
  console.log(`Tokenward benchmark — ${seconds}s per measurement, 50 connections, server in its own process (${new Date().toISOString().slice(0, 16)}Z)\n`);

  if (only.has('routes')) {
    const routes: Array<{ name: string; path: string; headers: Record<string, string> }> = [
      { name: 'Tokenward requireSession, cookie', path: '/api/ping/protected', headers: { cookie } },
      { name: 'Tokenward requireSession, Bearer', path: '/api/ping/protected', headers: { authorization: `Bearer ${accessToken}` } },
      { name: 'hono/jwt HS256, Bearer (peer)', path: '/api/ping/hono-jwt-hs256', headers: { authorization: `Bearer ${peer.hs256}` } },
      { name: 'hono/jwt EdDSA, Bearer (peer)', path: '/api/ping/hono-jwt-eddsa', headers: { authorization: `Bearer ${peer.eddsa}` } },
    ];
    // Warm up every path (JIT, verified-token cache), then measure; the bare route before and
    // after the guarded ones, averaged, so drift over the run does not favour either side.
    await load(`${server.url}/api/ping`, { seconds: 2 });
    for (const r of routes) await load(`${server.url}${r.path}`, { seconds: 1, headers: r.headers });
    const bareBefore = await load(`${server.url}/api/ping`, { seconds });
    const results = [];
    for (const r of routes) {
      const result = await load(`${server.url}${r.path}`, { seconds, headers: r.headers });
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${r.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      results.push({ ...r, result });
    }
    const bareAfter = await load(`${server.url}/api/ping`, { seconds });
    const bare = (bareBefore.rps + bareAfter.rps) / 2;
    console.log('1. the same route, bare and guarded (autocannon, ratio to the bare route)');
    const line = (name: string, rps: number, p99: number, ratio: string) => console.log(`   ${name.padEnd(36)} ${fmt(rps).padStart(7)} req/s   p99 ${fmt(p99, 1).padStart(5)} ms   ${ratio}`);
    line('bare (mean of before/after)', bare, Math.max(bareBefore.p99, bareAfter.p99), '1.00×');
    for (const r of results) line(r.name, r.result.rps, r.result.p99, `${(r.result.rps / bare).toFixed(2)}×`);
    console.log();
    for (const r of results.slice(0, 2)) {
      const ratio = r.result.rps / bare;
      verdicts.push({ target: `${r.name} ≥ 0.90× bare`, measured: `${ratio.toFixed(2)}×`, pass: ratio >= 0.9 });
    }
  }

  if (only.has('refresh')) {
    const refresh = await refreshLoad(server.url, { seconds });
    console.log('2. refresh rotation through HTTP (embedded SQLite, 50 sessions rotating in parallel)');
    console.log(`   ${fmt(refresh.rps)} rotations/s   p50 ${fmt(refresh.p50, 1)} ms   p99 ${fmt(refresh.p99, 1)} ms   (${refresh.count} rotations, ${refresh.non2xx} failed)\n`);
    verdicts.push({ target: 'refresh ≥ 4,000/s', measured: `${fmt(refresh.rps)}/s`, pass: refresh.rps >= 4000 && refresh.non2xx === 0 });
    verdicts.push({ target: 'refresh p99 < 20 ms', measured: `${fmt(refresh.p99, 1)} ms`, pass: refresh.p99 < 20 });
  }

  if (only.has('storm')) {
    // A fixed request rate well below saturation: on a 2-core machine that also runs the load
    // generator, a saturating client would measure CPU sharing, not event-loop blocking.
    const url = `${server.url}/api/ping/protected`;
    const shape = { headers: { cookie }, connections: 20, rate: STORM_RATE };
    await timedLoad(url, { ...shape, seconds: 1 });
    const calm = await timedLoad(url, { ...shape, seconds });
    const accounts = Array.from({ length: STORM_CONCURRENCY }, (_, i) => `storm${i}-${Math.random().toString(36).slice(2)}@example.com`);
    for (const account of accounts) await signupUser(server.url, account);
    const stop = new AbortController();
    const storm = loginStorm(server.url, accounts, { signal: stop.signal });
    await new Promise((r) => setTimeout(r, 500)); // let the hash queue fill
    const stormy = await timedLoad(url, { ...shape, seconds });
    stop.abort();
    const logins = await storm;
    const ratio = stormy.p99 / calm.p99;
    console.log(`3. login storm: protected route (cookie) at ${fmt(STORM_RATE)} req/s while ${STORM_CONCURRENCY} clients log in back to back (argon2id, one account each)`);
    console.log(`   without logins  ${fmt(calm.rps).padStart(7)} req/s   p50 ${fmt(calm.p50, 2)} ms   p99 ${fmt(calm.p99, 2)} ms`);
    console.log(`   during logins   ${fmt(stormy.rps).padStart(7)} req/s   p50 ${fmt(stormy.p50, 2)} ms   p99 ${fmt(stormy.p99, 2)} ms   (${fmt(logins.ok / (seconds + 0.5))} logins/s, ${logins.failed} refused)`);
    console.log(`   p99 ratio ${ratio.toFixed(2)}×\n`);
    if (stormy.non2xx > 0 || calm.non2xx > 0) throw new Error('protected route answered non-2xx during the storm bench');
    verdicts.push({ target: 'login storm: protected p99 ≤ 1.5×', measured: `${ratio.toFixed(2)}×`, pass: ratio <= 1.5 });
  }

  console.log('Summary (one run on this machine; compare within a run)');
  for (const v of verdicts) console.log(`   ${v.target.padEnd(46)} ${v.measured.padStart(10)}   ${mark(v.pass)}`);
} finally {
  await server.stop();
}
