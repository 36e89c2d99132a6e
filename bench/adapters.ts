/**
 * Protected route vs the same framework's bare route, per adapter (node:http, Express 5,
 * Fastify 5, Hono): `GET /api/ping/protected` (the adapter's `requireSession()`, cookie auth)
 * against `GET /api/ping` on the same server, built from `examples/<framework>.ts`. Each server
 * runs in its own process; autocannon -c 50 in this one. One run, ratios printed.
 *
 *   npx tsx bench/adapters.ts            (BENCH_SECONDS=8 by default)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, freePort, load, ROOT, signupUser } from './lib.js';

const ADAPTERS = ['node', 'express', 'fastify', 'hono'] as const;
type Adapter = (typeof ADAPTERS)[number];

/** Child mode: `bench/adapters.ts serve <adapter> <port>` runs one example server. */
async function serveAdapter(adapter: Adapter, port: number): Promise<void> {
  const { createTokenward } = await import('../src/server/create-tokenward.js');
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

async function startAdapter(adapter: Adapter): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `tokenward-bench-${adapter}-`));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', adapter, String(port)], {
    cwd: ROOT,
    env: { ...process.env, TOKENWARD_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  console.log(`Adapters — protected route vs the same framework's bare route (${seconds}s per run, 50 connections, server in its own process)\n`);
  for (const adapter of ADAPTERS) {
    const server = await startAdapter(adapter);
    try {
      const jar = await signupUser(server.url);
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      await load(`${server.url}/api/ping`, { seconds: 2 });
      await load(`${server.url}/api/ping/protected`, { seconds: 2, headers: { cookie } });
      const bare = await load(`${server.url}/api/ping`, { seconds });
      const guarded = await load(`${server.url}/api/ping/protected`, { seconds, headers: { cookie } });
      if (guarded.non2xx > 0 || bare.non2xx > 0) throw new Error(`${adapter}: ${guarded.non2xx + bare.non2xx} non-2xx responses`);
      const ratio = guarded.rps / bare.rps;
      console.log(
        `  ${adapter.padEnd(8)} bare ${fmt(bare.rps).padStart(7)} req/s (p99 ${fmt(bare.p99, 1)} ms)   protected ${fmt(guarded.rps).padStart(7)} req/s (p99 ${fmt(guarded.p99, 1)} ms)   ratio ${ratio.toFixed(2)}×`,
      );
    } finally {
      await server.stop();
    }
  }
}

if (process.argv[2] === 'serve') {
  // Exit through process.exit so `--cpu-prof` can write its profile.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
  await serveAdapter(process.argv[3] as Adapter, Number(process.argv[4]));
} else {
  await main();
}
