import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** How often the checkpointer copies committed WAL frames into the database file. */
const CHECKPOINT_INTERVAL_MS = 200;
/**
 * WAL pages after which the serving connection checkpoints by itself anyway (≈ 160 MB): only
 * reached if the checkpointer thread falls behind or dies.
 */
const FALLBACK_AUTOCHECKPOINT_PAGES = 40_000;
/** The serving connection's own threshold when there is no checkpointer (≈ 16 MB). */
export const INLINE_AUTOCHECKPOINT_PAGES = 4000;

// Plain CommonJS, evaluated in the worker (no file to resolve under tsx, vitest or dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('journal_size_limit = 67108864');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});`;

/**
 * Checkpoints the WAL from a worker thread with its own connection, so the serving connection
 * never copies pages into the database file inside a commit. Inline, a checkpoint stalls the
 * event loop ≈ 12 ms every ≈ 500 rotations, and every request in flight waits: the p99 of
 * refresh at 50 connections (bench/README.md). A PASSIVE checkpoint never blocks writers.
 *
 * Returns a stop function, or null when the worker cannot run (the connection then keeps
 * checkpointing inline).
 */
export function startWalCheckpointer(
  db: Database.Database,
  file: string,
  busyTimeoutMs: number,
): (() => Promise<void>) | null {
  let worker: Worker;
  try {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, file, busyTimeoutMs, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
  } catch {
    return null;
  }
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  let stopped = false;
  const inline = (): void => {
    // The checkpointer is gone: the serving connection checkpoints inline again.
    if (!stopped && db.open) db.pragma(`wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT_PAGES}`);
  };
  worker.once('error', inline);
  worker.once('exit', inline);
  return async () => {
    if (stopped) return;
    stopped = true;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Keep the process alive until the worker has gone: `await store.close()` at the top level
    // of a script must not leave an empty event loop (Node would exit with code 13).
    worker.ref();
    worker.postMessage('stop');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await worker.terminate();
  };
}
