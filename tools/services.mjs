// Real backing services for the test suites and benchmarks: installs the Debian packages when
// missing, and starts throwaway PostgreSQL clusters and Redis servers on free loopback ports.
//
//   import { ensureSystemPackages, startPostgres, startRedis } from './services.mjs';
//   const pg = await startPostgres();   // { url, stop, restart, kill, ... }
//   const redis = await startRedis();   // { url, port, stop, restart, kill, ... }
//
// Every service lives in its own mkdtemp directory with an `owner.pid` file. They are stopped
// when the owning process exits (normally or by SIGINT/SIGTERM/SIGHUP), and a later run removes
// what a killed owner (SIGKILL) left behind.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_PREFIX = 'tokenward-pg-';
const REDIS_PREFIX = 'tokenward-redis-';
const PG_USER = 'tokenward';
const PG_DATABASE = 'tokenward';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Whether `name` is an executable on PATH. */
function onPath(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`, or null. */
export function findPostgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter(
      (v) =>
        /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')),
    )
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

/**
 * Installs the Debian packages the suites need when they are missing: `chromium`
 * (`/usr/bin/chromium`), `redis-server`, `postgresql` and `openssl`. Runs `apt-get update` then
 * one `apt-get install -y` of what is missing; needs root. Resolves with the installed names.
 */
export async function ensureSystemPackages({
  log = console.log,
  packages = ['chromium', 'redis-server', 'postgresql', 'openssl'],
} = {}) {
  const present = {
    chromium: () => existsSync('/usr/bin/chromium'),
    'redis-server': () => onPath('redis-server'),
    postgresql: () => findPostgresBin() !== null,
    openssl: () => onPath('openssl'),
  };
  const missing = packages.filter((name) => !(present[name]?.() ?? onPath(name)));
  if (missing.length === 0) return [];
  if (!isRoot()) {
    throw new Error(
      `missing system packages: ${missing.join(', ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`,
    );
  }
  log(`services: installing ${missing.join(', ')} (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', ...missing]]) {
    log(`services: apt-get ${args.join(' ')}`);
    const result = spawnSync('apt-get', args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(
        `apt-get ${args[0]} failed (exit ${result.status}):\n${(result.stderr || result.stdout || '').slice(-2000)}`,
      );
    }
  }
  const still = missing.filter((name) => !(present[name]?.() ?? onPath(name)));
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
  log(`services: installed ${missing.join(', ')}`);
  return missing;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Cleanup: synchronous, so it also runs from process.on('exit').

const running = new Set();
let hooksInstalled = false;

function cleanupAll() {
  for (const service of [...running]) {
    try {
      service.cleanupSync();
    } catch {
      // best effort on the way out
    }
  }
}

function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    const onSignal = () => {
      cleanupAll();
      // Restore the default behaviour (terminate with this signal) unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function readPid(file) {
  try {
    return Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return Number.NaN;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Removes services whose owner process died without cleaning up (e.g. SIGKILL). */
function sweepStale() {
  let entries = [];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(PG_PREFIX) && !name.startsWith(REDIS_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = readPid(join(dir, 'owner.pid'));
    if (Number.isNaN(owner) || alive(owner)) continue;
    try {
      if (name.startsWith(PG_PREFIX)) {
        const bin = findPostgresBin();
        if (bin && existsSync(join(dir, 'data', 'postmaster.pid'))) {
          runAsPostgres(join(bin, 'pg_ctl'), ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w', '-t', '10'], {
            stdio: 'ignore',
          });
        }
      } else {
        const pid = readPid(join(dir, 'redis.pid'));
        // Only the redis-server that ran from this very directory.
        if (alive(pid) && cmdline(pid).includes('redis-server')) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // another run may be sweeping the same directory
    }
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

let postgresAccount;
/** The unprivileged account PostgreSQL runs as when we are root (it refuses to run as root). */
function postgresUser() {
  if (!isRoot()) return null;
  if (postgresAccount) return postgresAccount;
  const lookup = (name) => {
    try {
      return {
        name,
        uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim()),
        gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim()),
      };
    } catch {
      return null;
    }
  };
  let account = lookup('postgres');
  if (!account) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'tokenward-pg'], {
      stdio: 'ignore',
    });
    account = lookup('tokenward-pg');
  }
  if (!account)
    throw new Error('cannot find or create an unprivileged user to run PostgreSQL (tried "postgres", "tokenward-pg")');
  postgresAccount = account;
  return account;
}

function runAsPostgres(command, args, options = {}) {
  const account = postgresUser();
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    ...(account ? { uid: account.uid, gid: account.gid } : {}),
    env: { ...process.env, LC_ALL: 'C', ...(options.env ?? {}) },
  });
  return result;
}

/** Like runAsPostgres, without blocking the event loop (so a test's requests keep flowing). */
function runAsPostgresAsync(command, args, options = {}) {
  const account = postgresUser();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
      env: { ...process.env, LC_ALL: 'C', ...(options.env ?? {}) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.once('error', (error) => resolve({ status: null, stdout, stderr, error }));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function checked(result, what) {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(
      `${what} failed (exit ${result.status}):\n${`${result.stderr ?? ''}${result.stdout ?? ''}`.slice(-2000)}`,
    );
  return result;
}

/**
 * Starts a throwaway PostgreSQL cluster: `initdb` into a mkdtemp directory (owned by an
 * unprivileged user when running as root), `pg_ctl -w start` on a free 127.0.0.1 port with the
 * unix socket in that directory, and one database. Durability settings are relaxed (fsync off):
 * a clean stop or a killed server keeps its data, a machine crash would not.
 *
 * Resolves with `{ url, port, dir, stop, restart, kill, start, isRunning }`:
 * - `stop()`: stops the server and deletes the cluster (final).
 * - `restart({ downMs })`: fast shutdown, optional pause, start again on the same port.
 * - `kill()`: SIGKILL the postmaster (a crash); `start()` or `restart()` brings it back.
 */
export async function startPostgres({ log = () => {}, maxConnections = 200 } = {}) {
  await ensureSystemPackages({ log, packages: ['postgresql'] });
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin');
  sweepStale();
  installExitHooks();
  const account = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), PG_PREFIX));
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  if (account) chownSync(dir, account.uid, account.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  let port = 0;
  let stopped = false;

  const service = {
    cleanupSync() {
      running.delete(service);
      if (existsSync(join(data, 'postmaster.pid')))
        runAsPostgres(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '10']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(service);

  try {
    log('services: initdb…');
    checked(
      runAsPostgres(
        join(bin, 'initdb'),
        ['-D', data, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
        { cwd: dir },
      ),
      'initdb',
    );
  } catch (error) {
    service.cleanupSync();
    throw error;
  }

  const pgStart = (run = runAsPostgres) => {
    const options = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${dir}`,
      `-c max_connections=${maxConnections}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c shared_buffers=64MB',
    ].join(' ');
    return run(join(bin, 'pg_ctl'), ['start', '-D', data, '-l', logFile, '-w', '-t', '30', '-o', options], {
      cwd: dir,
    });
  };
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-1500);
    } catch {
      return '';
    }
  };

  // The port is free when chosen but may be taken before postgres binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const result = pgStart();
    if (result.status === 0) break;
    if (attempt >= 3) {
      service.cleanupSync();
      throw new Error(`pg_ctl start failed (exit ${result.status}):\n${result.stderr}${result.stdout}\n${tail()}`);
    }
  }
  try {
    checked(
      runAsPostgres(join(bin, 'createdb'), ['-h', dir, '-p', String(port), '-U', PG_USER, PG_DATABASE], { cwd: dir }),
      'createdb',
    );
  } catch (error) {
    service.cleanupSync();
    throw error;
  }
  const url = `postgres://${PG_USER}@127.0.0.1:${port}/${PG_DATABASE}`;
  log(`services: PostgreSQL on ${url}`);

  const postmasterPid = () => readPid(join(data, 'postmaster.pid'));
  const isRunning = () => alive(postmasterPid());

  const start = async () => {
    if (stopped) throw new Error('this PostgreSQL cluster was stopped for good');
    if (isRunning()) return;
    // After a kill, backends may linger a moment and hold the old shared memory.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const result = await pgStart(runAsPostgresAsync);
      if (result.status === 0) return;
      if (Date.now() > deadline)
        throw new Error(`pg_ctl start failed (exit ${result.status}):\n${result.stderr}${result.stdout}\n${tail()}`);
      await sleep(250);
    }
  };

  return {
    url,
    port,
    dir,
    isRunning,
    start,
    async restart({ downMs = 0 } = {}) {
      if (isRunning())
        checked(
          await runAsPostgresAsync(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30']),
          'pg_ctl stop',
        );
      if (downMs > 0) await sleep(downMs);
      await start();
    },
    async kill() {
      const pid = postmasterPid();
      if (alive(pid)) {
        process.kill(pid, 'SIGKILL');
        const deadline = Date.now() + 5000;
        while (alive(pid) && Date.now() < deadline) await sleep(20);
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      service.cleanupSync();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis

/** Resolves true when a Redis server answers PING on `port` within `timeoutMs`. */
function pingRedis(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

/**
 * Starts a throwaway `redis-server` child on a free 127.0.0.1 port, without persistence
 * (`--save '' --appendonly no`).
 *
 * Resolves with `{ url, port, stop, restart, kill, start, isRunning }`:
 * - `stop()`: terminates it and deletes its directory (final).
 * - `kill()`: SIGKILL (a crash; the data is gone, as with a real crash of a non-persistent Redis).
 * - `restart({ downMs })`: stops it if running, optional pause, starts it again on the same port.
 * - `pause()` / `resume()`: SIGSTOP / SIGCONT (connections stay open, nothing answers).
 */
export async function startRedis({ log = () => {} } = {}) {
  await ensureSystemPackages({ log, packages: ['redis-server'] });
  sweepStale();
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), REDIS_PREFIX));
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  let port = 0;
  let child = null;
  let stopped = false;
  let output = '';

  const service = {
    cleanupSync() {
      running.delete(service);
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(service);

  const spawnServer = async () => {
    output = '';
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'no',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
    );
    proc.stdout.on('data', (d) => (output = (output + d.toString()).slice(-4000)));
    proc.stderr.on('data', (d) => (output = (output + d.toString()).slice(-4000)));
    proc.unref();
    proc.stdout.unref?.();
    proc.stderr.unref?.();
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.exited = exited;
    child = proc;
    writeFileSync(join(dir, 'redis.pid'), `${proc.pid}\n`);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) return false;
      if (await pingRedis(port)) return true;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    return false;
  };

  let started = false;
  for (let attempt = 1; attempt <= 3 && !started; attempt++) {
    port = await freePort();
    started = await spawnServer();
  }
  if (!started) {
    service.cleanupSync();
    throw new Error(`redis-server did not start:\n${output}`);
  }
  const url = `redis://127.0.0.1:${port}`;
  log(`services: Redis on ${url}`);

  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;
  const terminate = async (signal) => {
    if (!isRunning()) return;
    const proc = child;
    // The child is unref'ed (it must not keep its owner alive); hold the loop while it exits.
    proc.ref();
    proc.kill('SIGCONT');
    proc.kill(signal);
    await proc.exited;
  };
  const start = async () => {
    if (stopped) throw new Error('this Redis server was stopped for good');
    if (isRunning()) return;
    // The same port: clients reconnect to the address they know.
    const deadline = Date.now() + 10_000;
    while (!(await spawnServer())) {
      if (Date.now() > deadline) throw new Error(`redis-server did not restart on port ${port}:\n${output}`);
      await sleep(200);
    }
  };

  return {
    url,
    port,
    isRunning,
    start,
    async restart({ downMs = 0 } = {}) {
      await terminate('SIGTERM');
      if (downMs > 0) await sleep(downMs);
      await start();
    },
    async kill() {
      await terminate('SIGKILL');
    },
    /** SIGSTOP: the server keeps its connections open but answers nothing (a hung Redis). */
    pause() {
      if (isRunning()) child.kill('SIGSTOP');
    },
    /** SIGCONT after `pause()`. */
    resume() {
      if (isRunning()) child.kill('SIGCONT');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      service.cleanupSync();
    },
  };
}
