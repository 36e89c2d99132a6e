// Rules that hold one request at a time and break under concurrency (parallel guessing past the
// backoff, a graced successor handed to a thief, a step-up grant used twice or burnt by a failing
// call, a revocation that one node never hears of) are one class of bug. This test sends seeded,
// randomised bursts of interleaved operations — logins with right and wrong passwords, tabs racing
// a refresh, stolen cookies replayed from elsewhere, logouts and revocations, step-ups with
// concurrent guarded calls, TOTP checks — to real server processes, and checks the invariants of
// API.md after every burst (see checks.ts and operations.ts; the plan is in plan.ts):
//
//   attempts-bounded            wrong secrets for one key in a burst are evaluated at most 5 times
//                               (+1 per backoff window the burst outlasts)
//   one-successor               all 200 answers to one refresh token carry the same successor
//   other-device-is-reuse       a token rotated by one device and presented by another is 401
//                               refresh_reused and ends the session; a token shown by two devices
//                               at once ends its session; a successor goes to one presenter only
//   grant-once                  a step-up grant answers at most one guarded call with 2xx, and is
//                               not lost to calls that failed
//   revoked-refused-everywhere  after logout, DELETE /auth/sessions/:id, revoke-others or reuse,
//                               every access token of the session is refused on every node within
//                               1 s, and its refresh tokens at once
//   totp-code-once, totp-stays-on, sessions-listed, audit-trail, contract (exact answers where the
//                               burst leaves no room for a race)
//
// Each seed prints its plan; a failing seed prints how to replay it. `npm test` runs the fixed
// seeds below on both deployments; `npm run test:concurrency -- --runs N` runs more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, startEmbedded, startSharedState } from '../support/deployments.js';
import { runSeed } from './run-seed.js';

/** The seeds `npm test` runs (each plan covers every scenario of plan.ts). */
const FIXED_SEEDS = [1, 2, 3];

/** Default limits (5 failures per account, then backoff), per-IP limits out of the way, X-Forwarded-For trusted. */
const ENV = {
  TOKENWARD_TRUST_PROXY: '1',
  TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
  TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
};

function seedsToRun(): number[] {
  const listed = process.env.TOKENWARD_CONCURRENCY_SEEDS;
  if (listed === undefined || listed.trim() === '') return FIXED_SEEDS;
  const seeds = listed.split(',').map((s) => Number(s.trim()));
  if (seeds.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff))
    throw new Error(`TOKENWARD_CONCURRENCY_SEEDS: not a list of 32-bit seeds: ${listed}`);
  return seeds;
}

const deployments: Array<[string, (env: Record<string, string>) => Promise<Deployment | null>]> = [
  ['embedded', (env) => startEmbedded(env)],
  ['postgres', (env) => startSharedState(env, 3)],
];
const only = process.env.TOKENWARD_CONCURRENCY_DEPLOYMENT;
if (only !== undefined && only !== '' && !deployments.some(([name]) => name === only)) {
  throw new Error(`TOKENWARD_CONCURRENCY_DEPLOYMENT: ${only} is not one of ${deployments.map(([n]) => n).join(', ')}`);
}

describe.each(deployments.filter(([name]) => only === undefined || only === '' || name === only))(
  'concurrency bursts (%s)',
  (name, start) => {
    let d: Deployment | null = null;
    beforeAll(async () => {
      d = await start(ENV);
    }, 120_000);
    afterAll(async () => {
      await d?.close();
    });

    it.each(seedsToRun())(
      'seed %i: every invariant holds after every burst',
      async (seed) => {
        if (d === null)
          throw new Error('TOKENWARD_TEST_DATABASE_URL is not set: run the suite with npm test (it starts PostgreSQL)');
        const reproduce = `reproduce with: npm run test:concurrency -- --seed ${seed} --deployment ${name}`;
        let report: Awaited<ReturnType<typeof runSeed>>;
        try {
          report = await runSeed(d, seed);
        } catch (error) {
          throw new Error(`seed ${seed} on ${d.name} stopped: ${(error as Error).message}\n${reproduce}`, {
            cause: error,
          });
        }
        console.log(`[concurrency] ${report.summary.replaceAll('\n', '\n[concurrency]   ')}`);
        // A browser's device id sent to anyone else lets them pose as that device (device-cookie.test.ts).
        const violations = [
          ...report.violations.map((v) => `burst ${v.burst} [${v.invariant}] ${v.message}`),
          ...report.notes.map((note) => `[device id] ${note}`),
        ];
        const failing = new Set(report.violations.map((v) => `burst ${v.burst} `));
        const trace = report.trace.filter(
          (line) => process.env.TOKENWARD_CONCURRENCY_TRACE === '1' || [...failing].some((b) => line.startsWith(b)),
        );
        if (trace.length > 0)
          console.log(
            `[concurrency] trace of seed ${seed} on ${d.name}${failing.size > 0 ? ' (failing bursts)' : ''}:\n${trace.join('\n')}`,
          );
        if (violations.length > 0)
          console.log(
            `[concurrency] seed ${seed} on ${d.name}: ${violations.length} violation(s)\n${violations.join('\n')}\n${reproduce}`,
          );
        expect(violations, reproduce).toEqual([]);
      },
      60_000,
    );
  },
);
