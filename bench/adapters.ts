/**
 * Protected route vs the same framework's bare route, per adapter (node:http, Express 5,
 * Fastify 5, Hono): `GET /api/ping/protected` (the adapter's `requireSession()`, cookie auth)
 * against `GET /api/ping` on the same server, built from `examples/<framework>.ts`. Each server
 * runs in its own process; autocannon -c 50 in this one. One run, ratios printed.
 *
 *   npm run bench:adapters               (BENCH_SECONDS=5, BENCH_ROUNDS=3, BENCH_ADAPTERS=node,express,fastify,hono)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, freePort, load, measure, median, ROOT, signupUser } from './lib.js';

const ADAPTERS = ['node', 'express', 'fastify', 'hono'] as const;
type Adapter = (typeof ADAPTERS)[number];

/** Child mode: `bench/adapters.ts serve <adapter> <port>` runs one example server. */
async function serveAdapter(adapter: Adapter, port: number): Promise<void> {
  const { createTokenward } = await import('../src/create-tokenward.js');
  const tw = await createTokenward({
    publicOrigin: 'http://localhost:3000',
    dataDir: process.env.TOKENWARD_DATA_DIR ?? './.tokenward',
    logLevel: 'warn',
    limitLoginPerIp: '1000000/1m',
    limitSignupPerIp: '1000000/1m',
  });
  const ready = () => console.log(`${adapter} listening on ${port}`);
  switch (adapter) {
    case 'node': {
      const { createNodeListener } = await import('../examples/node.js');
      createServer(createNodeListener(tw)).listen(port, '127.0.0.1', ready);
      break;
    }
    case 'express': {
      const { createExpressApp } = await import('../examples/express.js');
      createServer(createExpressApp(tw)).listen(port, '127.0.0.1', ready);
      break;
    }
    case 'fastify': {
      const { createFastifyApp } = await import('../examples/fastify.js');
      const app = await createFastifyApp(tw);
      await app.listen({ port, host: '127.0.0.1' });
      ready();
      break;
    }
    case 'hono': {
      const { serve } = await import('@hono/node-server');
      const { createHonoApp } = await import('../examples/hono.js');
      serve({ fetch: createHonoApp(tw).fetch, port, hostname: '127.0.0.1' }, ready);
      break;
    }
  }
}

async function startAdapter(adapter: Adapter): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `tokenward-bench-${adapter}-`));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', adapter, String(port)],
    {
      cwd: ROOT,
      env: { ...process.env, TOKENWARD_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${adapter} server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const only = process.env.BENCH_ADAPTERS?.split(',') ?? ADAPTERS;
  console.log(
    `Adapters — protected route vs the same framework's bare route (${seconds}s per run, ${rounds} rounds, medians; 50 connections; server in its own process)`,
  );
  console.log("Both routes get the same cookie header, so the ratio is the guard's cost alone.\n");
  const verdicts: string[] = [];
  for (const adapter of ADAPTERS.filter((a) => only.includes(a))) {
    const server = await startAdapter(adapter);
    try {
      const jar = await signupUser(server.url);
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      await load(`${server.url}/api/ping`, { seconds: 2, headers: { cookie } });
      await load(`${server.url}/api/ping/protected`, { seconds: 2, headers: { cookie } });
      const bare: Array<{ rps: number; p99: number; cpuUs: number }> = [];
      const guarded: Array<{ rps: number; p99: number; cpuUs: number }> = [];
      for (let round = 0; round < rounds; round++) {
        const b = await measure(`${server.url}/api/ping`, server.pid, { seconds, headers: { cookie } });
        const g = await measure(`${server.url}/api/ping/protected`, server.pid, { seconds, headers: { cookie } });
        if (g.non2xx > 0 || b.non2xx > 0) throw new Error(`${adapter}: ${g.non2xx + b.non2xx} non-2xx responses`);
        bare.push(b);
        guarded.push(g);
      }
      const ratio = median(guarded.map((g, i) => g.rps / (bare[i]?.rps ?? Number.NaN)));
      const cpuRatio = median(guarded.map((g, i) => (bare[i]?.cpuUs ?? Number.NaN) / g.cpuUs));
      const m = (xs: Array<{ rps: number; p99: number; cpuUs: number }>, k: 'rps' | 'p99' | 'cpuUs') =>
        median(xs.map((x) => x[k]));
      console.log(
        `  ${adapter.padEnd(8)} bare ${fmt(m(bare, 'rps')).padStart(7)} req/s (p99 ${fmt(m(bare, 'p99'), 1)} ms, ${fmt(m(bare, 'cpuUs'), 1)} µs CPU)   protected ${fmt(m(guarded, 'rps')).padStart(7)} req/s (p99 ${fmt(m(guarded, 'p99'), 1)} ms, ${fmt(m(guarded, 'cpuUs'), 1)} µs CPU)   ratio ${ratio.toFixed(2)}× (CPU ${cpuRatio.toFixed(2)}×)`,
      );
      verdicts.push(
        `  ${`${adapter} protected ≥ 0.90× bare`.padEnd(36)} ${`${ratio.toFixed(2)}×`.padStart(6)}   ${ratio >= 0.9 ? 'PASS' : 'FAIL'}`,
      );
    } finally {
      await server.stop();
    }
  }
  console.log("\nSummary (one run; ratios within the run; CPU = the server's CPU time per request, bare ÷ protected)");
  for (const v of verdicts) console.log(v);
}

if (process.argv[2] === 'serve') {
  // Exit through process.exit so `--cpu-prof` can write its profile.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
  await serveAdapter(process.argv[3] as Adapter, Number(process.argv[4]));
} else {
  await main();
}
