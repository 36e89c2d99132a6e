import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Nice value of the hashing threads. On Linux the nice value is per thread, so argon2 work yields
 * the CPU to the event loop: a login storm on a small machine slows logins, not every protected
 * request (DESIGN.md "Performance targets": protected-route p99 within 1.5× during a storm).
 */
const HASHING_NICE = 10;

type Job = { op: 'hash'; password: string; options: object } | { op: 'verify'; hash: string; password: string };

// Plain CommonJS, evaluated in the worker (no file to resolve under tsx, vitest or dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { setPriority } = require('node:os');
const { hashSync, verifySync } = require(workerData.argon2);
try { setPriority(0, workerData.nice); } catch {}
parentPort.on('message', (job) => {
  try {
    const value = job.op === 'hash' ? hashSync(job.password, job.options) : verifySync(job.hash, job.password);
    parentPort.postMessage({ value });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});`;

/**
 * A fixed set of worker threads running argon2 synchronously at a lower CPU priority. Only on
 * Linux, where `setpriority(0)` changes the calling thread alone (elsewhere it would lower the
 * whole process): {@link createArgon2Workers} returns null there and callers keep libuv's pool.
 * The caller bounds concurrency to `size` (one job per idle worker).
 */
export class Argon2Workers {
  readonly #idle: Worker[] = [];
  readonly #waiting: Array<(worker: Worker) => void> = [];
  readonly #argon2: string;

  constructor(size: number) {
    this.#argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
    for (let i = 0; i < size; i++) this.#idle.push(this.#spawn());
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { argon2: this.#argon2, nice: HASHING_NICE } });
    worker.unref();
    return worker;
  }

  hash(password: string, options: object): Promise<string> {
    return this.#run({ op: 'hash', password, options }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.#run({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  async #run(job: Job): Promise<unknown> {
    let worker = this.#idle.pop() ?? (await new Promise<Worker>((resolve) => this.#waiting.push(resolve)));
    worker.ref(); // a pending hash keeps the process alive; an idle pool does not
    let failed = false;
    try {
      const reply = await new Promise<{ value?: unknown; error?: string }>((resolve, reject) => {
        const onError = (error: Error) => {
          failed = true;
          reject(error);
        };
        worker.once('error', onError);
        worker.once('message', (message: { value?: unknown; error?: string }) => {
          worker.off('error', onError);
          resolve(message);
        });
        worker.postMessage(job);
      });
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply.value;
    } finally {
      worker.unref();
      if (failed) {
        void worker.terminate();
        worker = this.#spawn();
      }
      const next = this.#waiting.shift();
      if (next) next(worker);
      else this.#idle.push(worker);
    }
  }
}

/** One pool per size for the whole process: instances (tests create many) never multiply threads. */
const pools = new Map<number, Argon2Workers | null>();

/**
 * The worker pool where thread priorities are per thread (Linux), else null. Shared by every
 * hasher asking for the same size; each hasher still bounds its own concurrency, and jobs beyond
 * the pool's size wait for a free worker.
 */
export function createArgon2Workers(size: number): Argon2Workers | null {
  if (process.platform !== 'linux') return null;
  let pool = pools.get(size);
  if (pool === undefined) {
    try {
      pool = new Argon2Workers(size);
    } catch {
      pool = null;
    }
    pools.set(size, pool);
  }
  return pool;
}
