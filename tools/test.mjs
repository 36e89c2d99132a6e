#!/usr/bin/env node
// `npm test`: installs what the suites need (Chromium, PostgreSQL, Redis, OpenSSL from Debian
// packages when missing), starts one shared PostgreSQL and one shared Redis, runs vitest once
// (extra arguments are passed on: `npm test -- test/store`), stops the services and exits with
// vitest's status.
//
// The suites find the shared servers in TOKENWARD_TEST_DATABASE_URL and TOKENWARD_TEST_REDIS_URL.
// Tests that stop or kill a server start their own with tools/services.mjs.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ensureSystemPackages, startPostgres, startRedis } from './services.mjs';

const log = (line) => console.log(`[test] ${line.replace(/^services: /, '')}`);
const args = process.argv.slice(2);

let postgres;
let redis;
async function stopServices() {
  await Promise.allSettled([postgres?.stop(), redis?.stop()]);
}

try {
  await ensureSystemPackages({ log });
  log('starting PostgreSQL and Redis…');
  [postgres, redis] = await Promise.all([startPostgres({ log }), startRedis({ log })]);
} catch (error) {
  console.error(`[test] cannot prepare the test services: ${error.message}`);
  await stopServices();
  process.exit(1);
}

const env = { ...process.env, TOKENWARD_TEST_DATABASE_URL: postgres.url, TOKENWARD_TEST_REDIS_URL: redis.url };
log(`vitest run ${args.join(' ')}`.trim());
const child = spawn('npx', ['vitest', 'run', ...args], { stdio: 'inherit', env });

// Ctrl-C reaches vitest through the terminal's process group; a SIGTERM sent to this process
// alone is forwarded. Either way the services are stopped once vitest has exited.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}

const status = await new Promise((resolve) => {
  child.once('error', (error) => {
    console.error(`[test] cannot run vitest: ${error.message}`);
    resolve(1);
  });
  child.once('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 1)));
});
await stopServices();
log(`done (exit ${status})`);
process.exit(status);
