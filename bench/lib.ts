import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface BenchServer {
  url: string;
  port: number;
  child: ChildProcess;
  stop: () => Promise<void>;
}

/** Starts bench/server.ts (Tokenward configured from TOKENWARD_* like `npm start`, plus the bench routes) in its own process. */
export async function startServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TOKENWARD_DATA_DIR: dataDir,
      TOKENWARD_LOG_LEVEL: 'warn',
      TOKENWARD_LIMIT_LOGIN_PER_IP: '1000000/1m',
      TOKENWARD_LIMIT_SIGNUP_PER_IP: '1000000/1m',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Cookies {
  header: string;
  get(name: string): string | undefined;
}

/** Signs up a fresh user and returns its cookies. */
export const BENCH_PASSWORD = 'a benchmark password';

export async function signupUser(
  url: string,
  email = `bench${Math.random().toString(36).slice(2)}@example.com`,
): Promise<Map<string, string>> {
  const res = await fetch(`${url}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email, password: BENCH_PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = (pair ?? '').indexOf('=');
    jar.set((pair ?? '').slice(0, i), (pair ?? '').slice(i + 1));
  }
  return jar;
}

export interface LoadResult {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
}

/** autocannon run: `connections` clients for `seconds`. */
export async function load(
  url: string,
  options: { headers?: Record<string, string>; connections?: number; seconds?: number; method?: 'GET' | 'POST' } = {},
): Promise<LoadResult & { count: number }> {
  const result = await autocannon({
    url,
    connections: options.connections ?? 50,
    duration: options.seconds ?? 8,
    headers: options.headers ?? {},
    method: options.method ?? 'GET',
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    errors: result.errors,
    non2xx: result.non2xx,
    count: result.requests.total,
  };
}

/**
 * Refresh rotations through HTTP: `connections` independent sessions, each rotating its own
 * one-time refresh token in a loop (plain Node http with keep-alive, timed with performance.now()).
 */
export async function refreshLoad(
  url: string,
  options: { connections?: number; seconds?: number; sessions?: Array<Map<string, string>> } = {},
): Promise<LoadResult & { count: number }> {
  const connections = options.sessions?.length ?? options.connections ?? 50;
  const seconds = options.seconds ?? 8;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL('/auth/refresh', url);
  const sessions = options.sessions ?? (await Promise.all(Array.from({ length: connections }, () => signupUser(url))));
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const deadline = performance.now() + seconds * 1000;
  const rtName = [...(sessions[0]?.keys() ?? [])].find((k) => k.endsWith('tw_rt')) as string;
  const one = (token: string): Promise<{ status: number; token: string | undefined }> =>
    new Promise((resolve, reject) => {
      const req = request(
        target,
        { method: 'POST', agent, headers: { cookie: `${rtName}=${token}`, 'sec-fetch-site': 'same-origin' } },
        (res) => {
          res.resume();
          const set = res.headers['set-cookie'] ?? [];
          const next = set
            .find((c) => c.startsWith(`${rtName}=`))
            ?.split(';')[0]
            ?.slice(rtName.length + 1);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, token: next }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    sessions.map(async (jar) => {
      let token = jar.get(rtName) as string;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const r = await one(token);
          latencies.push(performance.now() - t0);
          if (r.status !== 200 || !r.token) {
            non2xx++;
            return;
          }
          token = r.token;
        } catch {
          errors++;
          return;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { rps: latencies.length / elapsed, p99: pct(0.99), p50: pct(0.5), errors, non2xx, count: latencies.length };
}

/**
 * Load with per-request timing (µs resolution, unlike autocannon's whole-ms histogram):
 * `connections` keep-alive clients. Without `rate` each sends back to back (closed loop); with
 * `rate` (requests/s in total) each sends on a fixed schedule and a request's latency counts from
 * its scheduled time, so a stalled server is not hidden by the client waiting (coordinated omission).
 */
export async function timedLoad(
  url: string,
  options: { headers?: Record<string, string>; connections?: number; seconds?: number; rate?: number } = {},
): Promise<LoadResult & { count: number }> {
  const connections = options.connections ?? 50;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const deadline = performance.now() + (options.seconds ?? 8) * 1000;
  const one = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request(target, { agent, headers: options.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  const started = performance.now();
  const intervalMs = options.rate === undefined ? 0 : (connections * 1000) / options.rate;
  await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      let scheduled = started + (intervalMs * i) / connections;
      while (scheduled < deadline) {
        const wait = scheduled - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // Timers may fire up to 1 ms early (whole-ms resolution): then count from the actual send.
        const t0 = intervalMs === 0 ? performance.now() : Math.min(scheduled, performance.now());
        try {
          const status = await one();
          latencies.push(performance.now() - t0);
          if (status < 200 || status > 299) non2xx++;
        } catch {
          errors++;
        }
        scheduled = intervalMs === 0 ? performance.now() : scheduled + intervalMs;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { rps: latencies.length / elapsed, p99: pct(0.99), p50: pct(0.5), errors, non2xx, count: latencies.length };
}

/**
 * Password logins in a loop until `signal` aborts: one client per account, each logging its
 * account in back to back (argon2id verify, session creation). Resolves with counts.
 */
export async function loginStorm(
  url: string,
  emails: readonly string[],
  options: { signal: AbortSignal },
): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  await Promise.all(
    emails.map(async (email) => {
      const body = JSON.stringify({ email, password: BENCH_PASSWORD });
      while (!options.signal.aborted) {
        try {
          const res = await fetch(`${url}/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
            body,
          });
          await res.arrayBuffer();
          if (res.status === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { ok, failed };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/**
 * {@link load} plus the server's CPU time per request (µs): on a busy machine throughput swings
 * with whatever else runs, while CPU per request mostly reflects the work the server does.
 */
export async function measure(
  url: string,
  pid: number,
  options: Parameters<typeof load>[1] = {},
): Promise<LoadResult & { cpuUs: number }> {
  const before = cpuSeconds(pid);
  const result = await load(url, options);
  return { ...result, cpuUs: ((cpuSeconds(pid) - before) * 1e6) / Math.max(1, result.count) };
}

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
