/**
 * The package as a user meets it: the tarball `npm pack` makes (packed once per content, see
 * tools/pack.mjs), installed with `npm install <tgz>` into a fresh ESM app next to the frameworks
 * the examples use. Installing is slow the first time (better-sqlite3 compiles), so a base app
 * with the dependencies is cached by their versions, and each new tarball is installed into a
 * copy of it (npm then only swaps tokenward itself).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, cachedDir, contentHash, packTarball, ROOT } from '../../tools/pack.mjs';
import { freePort } from './process.js';

const run = promisify(execFile);

/** What the consumer app installs besides tokenward: the versions this repository tests with. */
const CONSUMER_PACKAGES = [
  'typescript',
  '@types/node',
  'express',
  '@types/express',
  'fastify',
  'hono',
  '@hono/node-server',
  'tsx',
  'react',
  'react-dom',
  '@types/react',
  '@types/react-dom',
];

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}

/** The environment a user's shell would have: no TOKENWARD_* or PORT from the test run. */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !name.startsWith('TOKENWARD_') &&
      name !== 'PORT' &&
      !name.startsWith('VITEST') &&
      name !== 'NODE_OPTIONS'
    )
      env[name] = value;
  }
  return { ...env, ...extra };
}

async function npmInstall(cwd: string, args: string[]): Promise<void> {
  await run('npm', ['install', ...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: userEnv(),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
}

/**
 * better-sqlite3 compiles from source at install (a minute on two cores, no prebuilt binary can
 * be downloaded here). The consumer app is installed without scripts; its addon is the one this
 * repository's install compiled when the versions match, else it is rebuilt.
 */
async function buildNativeAddons(dir: string): Promise<void> {
  const version = (root: string) =>
    (JSON.parse(readFileSync(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string })
      .version;
  const compiled = join(ROOT, 'node_modules/better-sqlite3/build');
  if (version(dir) === version(ROOT) && existsSync(join(compiled, 'Release/better_sqlite3.node'))) {
    cpSync(compiled, join(dir, 'node_modules/better-sqlite3/build'), { recursive: true });
  } else {
    await run('npm', ['rebuild', 'better-sqlite3'], { cwd: dir, env: userEnv(), timeout: 600_000 });
  }
}

export interface ConsumerApp {
  /** The app directory (package.json with "type": "module", node_modules with tokenward). */
  dir: string;
  tarball: string;
  /** `npm pack --json` details: files, sizes. */
  info: Awaited<ReturnType<typeof packTarball>>['info'];
  /** Hash of the dependency versions the app was installed with. */
  depsKey: string;
}

let app: Promise<ConsumerApp> | undefined;

/** The installed consumer app of the current sources (built once per content, cached on disk). */
export function consumerApp(): Promise<ConsumerApp> {
  app ??= (async () => {
    const log = (line: string) => console.log(`[package] ${line}`);
    const { tarball, key, info } = await packTarball({ log });
    const packages = CONSUMER_PACKAGES.map((name) => `${name}@${installedVersion(name)}`);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const depsKey = contentHash([], JSON.stringify({ packages, dependencies: pkg.dependencies }));
    const base = await cachedDir(
      `consumer-base-${depsKey}`,
      async (dir) => {
        writeFileSync(
          join(dir, 'package.json'),
          `${JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
        );
        await npmInstall(dir, [tarball, ...packages, '--ignore-scripts']);
        await buildNativeAddons(dir);
      },
      { log },
    );
    const dir = await cachedDir(
      `consumer-${key}-${depsKey}`,
      async (staging) => {
        cpSync(base, staging, { recursive: true, verbatimSymlinks: true });
        rmSync(join(staging, '.complete'));
        await npmInstall(staging, [tarball]);
      },
      { log },
    );
    return { dir, tarball, info, depsKey };
  })();
  return app;
}

/** A fresh working directory inside the consumer app (its node_modules resolve from there). */
export function workDir(app: ConsumerApp, tag: string): string {
  mkdirSync(join(app.dir, 'work'), { recursive: true });
  return mkdtempSync(join(app.dir, 'work', `${tag}-`));
}

/** Runs a command to completion; never throws (the caller asserts on the result). */
export async function runIn(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      env: userEnv(env),
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

export interface BackgroundProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a long-running command (a server) with PORT set to a free port and waits until
 * `http://127.0.0.1:<port>/healthz` or `readyPath` answers (any status).
 */
export async function startInBackground(
  cwd: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string>; port?: number; readyPath?: string; timeoutMs?: number } = {},
): Promise<BackgroundProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(command, args, {
    cwd,
    env: userEnv({ PORT: String(port), ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
    const ok = await fetch(`${url}${options.readyPath ?? '/healthz'}`).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      process.kill(-(child.pid as number), 'SIGKILL');
      throw new Error(`${command} ${args.join(' ')} did not answer on ${url} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port,
    url,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      // The whole process group: `npx`/`sh -c` wrappers and the server they started.
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), signal);
      return exited;
    },
  };
}

/** What the Next.js example installs besides tokenward (and the consumer app's dependencies it starts from). */
const NEXT_PACKAGES = ['next', 'react', 'react-dom', 'typescript', '@types/node', '@types/react', '@types/react-dom'];
const NEXT_EXAMPLE = 'examples/next';

/**
 * examples/next built with `next build` against the packed tarball, cached by the tarball, the
 * example's files and the dependency versions: `{ dir }` is ready for `next start`. The first
 * build installs Next.js into a base app seeded with the consumer app's node_modules.
 */
export async function nextExampleBuild(): Promise<{ dir: string }> {
  const log = (line: string) => console.log(`[next] ${line}`);
  const consumer = await consumerApp();
  const { key } = await packTarball({ log });
  const packages = NEXT_PACKAGES.map((name) => `${name}@${installedVersion(name)}`);
  const depsKey = contentHash([], JSON.stringify({ packages, consumer: consumer.depsKey }));
  const base = await cachedDir(
    `next-base-${depsKey}`,
    async (dir) => {
      cpSync(join(consumer.dir, 'node_modules'), join(dir, 'node_modules'), {
        recursive: true,
        verbatimSymlinks: true,
      });
      writeFileSync(
        join(dir, 'package.json'),
        `${JSON.stringify({ name: 'next-base', private: true, type: 'module' }, null, 2)}\n`,
      );
      await npmInstall(dir, [consumer.tarball, ...packages]);
    },
    { log },
  );
  const dir = await cachedDir(
    `next-${key}-${contentHash([NEXT_EXAMPLE])}-${depsKey}`,
    async (staging) => {
      cpSync(join(base, 'node_modules'), join(staging, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      cpSync(join(ROOT, NEXT_EXAMPLE), staging, { recursive: true });
      // The example's own package.json, with the versions tested here and the packed tarball.
      await npmInstall(staging, [consumer.tarball, ...packages]);
      await run(join(staging, 'node_modules/.bin/next'), ['build'], {
        cwd: staging,
        env: userEnv({ NEXT_TELEMETRY_DISABLED: '1' }),
        maxBuffer: 64 * 1024 * 1024,
        timeout: 600_000,
      });
    },
    { log },
  );
  return { dir };
}

export { CACHE_DIR };
