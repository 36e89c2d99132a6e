/**
 * Refresh storage as an app grows (issue "refresh tokens in constant space"), on the embedded
 * SQLite store, in one process:
 *
 *   1. bytes per session: a session rotated 0, 100 and 1,000 times (the constant-space format), and
 *      the same rotations stored the way the earlier format did (one refresh_tokens row per
 *      rotation, written with the same columns), measured as database pages;
 *   2. rotation throughput with 1k and with 1M sessions in the table (ratio within this run;
 *      target ≥ 0.9×): the store's rotation (the rule and its transaction), medians of rounds;
 *   3. the longest event-loop block while pruning a 1M-session table (monitorEventLoopDelay;
 *      target ≤ 10 ms): with nothing due, and with 100k dead sessions to delete.
 *
 *   npm run bench:refresh-growth            (BENCH_SESSIONS=1000000 by default; BENCH_ROUNDS=5)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { RotateInput, Store } from '../src/kernel/ports.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';

const LARGE = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const SMALL = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = 1500;
const DAY = 86_400_000;
const T0 = Date.now();

const b64 = (n: number): string => randomBytes(n).toString('base64url');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Inserts `count` users with one live session each (generation 1), in bulk; returns the sessions' tokens. */
function seed(
  file: string,
  count: number,
  options: { dead?: number } = {},
): Array<{ sessionId: string; hash: string }> {
  const db = new Database(file);
  const insertUser = db.prepare(
    'INSERT INTO users (id, email, name, created_at, email_verified) VALUES (?, ?, NULL, ?, 0)',
  );
  const insertSession = db.prepare(
    `INSERT INTO sessions (id, user_id, created_at, last_active_at, idle_expires_at, absolute_expires_at, auth_time, amr,
       revoked_at, revoke_reason, ip, user_agent, device_id, new_device, dpop_jkt, client_id, refresh_generation, refresh_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, '["pwd"]', ?, ?, '203.0.113.7', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/120.0', ?, 0, NULL, 'http://localhost:3000', 1, ?)`,
  );
  const tokens: Array<{ sessionId: string; hash: string }> = [];
  const dead = options.dead ?? 0;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const userId = randomUUID();
      const sessionId = randomUUID();
      const hash = b64(32);
      insertUser.run(userId, `u${i}-${userId.slice(0, 8)}@example.com`, T0);
      const revoked = i < dead ? T0 - 200 * DAY : null;
      insertSession.run(
        sessionId,
        userId,
        T0,
        T0,
        T0 + 14 * DAY,
        T0 + 30 * DAY,
        T0,
        revoked,
        revoked === null ? null : 'logout',
        b64(24),
        hash,
      );
      if (revoked === null && tokens.length < 20_000) tokens.push({ sessionId, hash });
    }
  });
  for (let i = 0; i < count; i += 50_000) batch(i, Math.min(count, i + 50_000));
  db.close();
  return tokens;
}

function input(token: { sessionId: string; hash: string; generation: number }, now: number): RotateInput {
  return {
    sessionId: token.sessionId,
    generation: token.generation,
    presentedHash: token.hash,
    successorHash: b64(32),
    successorSealed: b64(150),
    now,
    graceMs: 10_000,
    idleMs: 14 * DAY,
    presenter: b64(32),
    proofJkt: null,
    reuseEvent: { id: randomUUID(), type: 'refresh.reuse_detected', at: now, ip: null, device: null, data: null },
  };
}

/** Rotations per second over rounds (median), each rotation on the next session's current token. */
type Current = { sessionId: string; hash: string; generation: number };

async function rotationRate(store: Store, tokens: Current[]): Promise<number> {
  const rates: number[] = [];
  let i = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ROUND_MS) {
      const token = tokens[i++ % tokens.length] as (typeof tokens)[number];
      const rotation = input(token, T0 + 1000 + i);
      const outcome = await store.rotateRefreshToken(rotation);
      if (outcome.kind !== 'rotated') throw new Error(`unexpected ${outcome.kind}`);
      token.generation++;
      token.hash = rotation.successorHash;
      n++;
    }
    if (round > 0) rates.push((n * 1000) / (performance.now() - start)); // round 0 warms up
  }
  return median(rates);
}

function pages(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
}

async function bytesPerSession(dir: string): Promise<void> {
  console.log('1. bytes per session (1,000 sessions, SQLite pages after VACUUM, per session)');
  for (const rotations of [0, 100, 1000]) {
    const file = join(dir, `bytes-${rotations}.db`);
    await (await openSqliteStore({ file })).close();
    const base = pages(file);
    const seeded = seed(file, 1000);
    const store = await openSqliteStore({ file });
    const tokens = seeded.map((t) => ({ ...t, generation: 1 }));
    for (let r = 0; r < rotations; r++) {
      for (const token of tokens) {
        const rotation = input(token, T0 + 1000 + r * 20_000);
        await store.rotateRefreshToken(rotation);
        token.generation++;
        token.hash = rotation.successorHash;
      }
    }
    await store.close();
    const after = new Database(file);
    after.exec('VACUUM');
    after.close();
    const now = (pages(file) - base) / 1000;
    // The earlier format, stored the same way: one row per rotation with its columns' sizes.
    const legacy = new Database(file);
    const row = legacy.prepare(
      'INSERT INTO refresh_tokens (hash, session_id, parent_hash, created_at, used_at, successor_hash, successor_sealed, rotated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    legacy.transaction(() => {
      for (const token of tokens)
        for (let r = 0; r <= rotations; r++)
          row.run(b64(32), token.sessionId, b64(32), T0, T0, b64(32), b64(150), b64(32));
    })();
    legacy.exec('VACUUM');
    legacy.close();
    const before = (pages(file) - base) / 1000;
    console.log(
      `   ${fmt(rotations).padStart(5)} rotations: ${fmt(now).padStart(7)} B/session now   (the earlier format: ${fmt(before)} B/session)`,
    );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-growth-'));
  try {
    await bytesPerSession(dir);

    console.log(
      `2. rotation throughput with ${fmt(SMALL)} and ${fmt(LARGE)} sessions (store rotation, median of ${ROUNDS} rounds of ${ROUND_MS} ms)`,
    );
    const smallFile = join(dir, 'small.db');
    const largeFile = join(dir, 'large.db');
    for (const file of [smallFile, largeFile]) await (await openSqliteStore({ file })).close();
    const smallTokens: Current[] = seed(smallFile, SMALL).map((t) => ({ ...t, generation: 1 }));
    const seedStart = performance.now();
    const largeTokens: Current[] = seed(largeFile, LARGE, { dead: Math.floor(LARGE / 10) }).map((t) => ({
      ...t,
      generation: 1,
    }));
    console.log(
      `   seeded ${fmt(LARGE)} sessions (${fmt(LARGE / 10)} of them dead) in ${fmt((performance.now() - seedStart) / 1000, 1)} s`,
    );
    const small = await openSqliteStore({ file: smallFile });
    const large = await openSqliteStore({ file: largeFile });
    // Alternate so that machine noise hits both alike.
    const smallRates: number[] = [];
    const largeRates: number[] = [];
    for (let i = 0; i < 3; i++) {
      smallRates.push(await rotationRate(small, smallTokens));
      largeRates.push(await rotationRate(large, largeTokens));
    }
    const ratio = median(largeRates) / median(smallRates);
    console.log(
      `   ${fmt(SMALL)} sessions: ${fmt(median(smallRates))} rotations/s   ${fmt(LARGE)} sessions: ${fmt(median(largeRates))} rotations/s   ratio ${fmt(ratio, 2)}× (target ≥ 0.9×)`,
    );

    console.log(`3. pruning ${fmt(LARGE)} sessions (longest event-loop block, monitorEventLoopDelay)`);
    for (const [label, before] of [
      ['nothing due', T0 - 400 * DAY],
      [`${fmt(LARGE / 10)} dead sessions due`, T0 - 100 * DAY],
    ] as const) {
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      const start = performance.now();
      const deleted = await large.prune(before);
      const ms = performance.now() - start;
      histogram.disable();
      console.log(
        `   ${label}: ${fmt(deleted)} rows deleted in ${fmt(ms, 1)} ms; longest event-loop block ${fmt(histogram.max / 1e6, 1)} ms (target ≤ 10 ms)`,
      );
    }
    await small.close();
    await large.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
