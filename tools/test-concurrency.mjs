#!/usr/bin/env node
// `npm run test:concurrency -- [--runs N] [--seed S] [--deployment embedded|postgres] [--trace]`:
// the seeded concurrency test (test/concurrency) with more seeds than `npm test` runs.
//
//   --runs N        N seeds (default 10): random ones, or S, S+1, … with --seed
//   --seed S        replay seed S (as printed by a failing run)
//   --deployment D  only `embedded` (one process, SQLite) or `postgres` (3 nodes, PostgreSQL + Redis)
//   --trace         print every answer of every seed
//
// It sets the environment the test reads and runs it through tools/test.mjs (which starts the
// PostgreSQL and Redis the suite needs).
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const usage = 'usage: npm run test:concurrency -- [--runs N] [--seed S] [--deployment embedded|postgres] [--trace]';
const args = process.argv.slice(2);
const options = { runs: undefined, seed: undefined, deployment: '', trace: false };
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = () => {
    const v = args[++i];
    if (v === undefined) fail(`${arg} needs a value`);
    return v;
  };
  if (arg === '--runs') options.runs = integer(value(), '--runs', 1, 10_000);
  else if (arg === '--seed') options.seed = integer(value(), '--seed', 0, 0xffffffff);
  else if (arg === '--deployment') {
    options.deployment = value();
    if (!['embedded', 'postgres'].includes(options.deployment))
      fail(`--deployment is embedded or postgres, not ${options.deployment}`);
  } else if (arg === '--trace') options.trace = true;
  else if (arg === '--help' || arg === '-h') {
    console.log(usage);
    process.exit(0);
  } else fail(`unknown argument ${arg}`);
}

function fail(message) {
  console.error(`test:concurrency: ${message}\n${usage}`);
  process.exit(2);
}

function integer(text, name, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

const runs = options.runs ?? (options.seed === undefined ? 10 : 1);
const seeds =
  options.seed === undefined
    ? Array.from({ length: runs }, () => randomInt(1, 2 ** 31))
    : Array.from({ length: runs }, (_, i) => (options.seed + i) % 2 ** 32);
console.log(
  `[test:concurrency] seeds ${seeds.join(', ')}${options.deployment ? ` on ${options.deployment}` : ' on embedded and postgres'}`,
);

const root = fileURLToPath(new URL('../', import.meta.url));
const child = spawn(process.execPath, ['tools/test.mjs', 'test/concurrency/concurrency.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    TOKENWARD_CONCURRENCY_SEEDS: seeds.join(','),
    TOKENWARD_CONCURRENCY_DEPLOYMENT: options.deployment,
    TOKENWARD_CONCURRENCY_TRACE: options.trace ? '1' : '',
  },
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
