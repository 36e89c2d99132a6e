import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { TokenwardError } from '../errors.js';
import { randomToken } from '../kernel/crypto/encoding.js';
import type { PasswordHasher } from '../kernel/ports.js';
import { type Argon2Workers, createArgon2Workers } from './argon2-workers.js';

/** OWASP argon2id parameters (m=19 MiB, t=2, p=1). */
// 2 = Algorithm.Argon2id (a const enum, which verbatimModuleSyntax cannot read).
export const ARGON2_PARAMS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const PARAM_MARK = `$argon2id$v=19$m=${ARGON2_PARAMS.memoryCost},t=${ARGON2_PARAMS.timeCost},p=${ARGON2_PARAMS.parallelism}$`;

/**
 * argon2id hashing on libuv's thread pool (off the event loop), with at most `concurrency`
 * hashes at once and a bounded queue, so a login storm cannot starve protected routes.
 */
export class Argon2Hasher implements PasswordHasher {
  readonly #concurrency: number;
  readonly #maxQueue: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];
  #dummy: Promise<string> | undefined;
  #workers: Argon2Workers | null | undefined;

  constructor(options: { concurrency?: number; maxQueue?: number } = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
    this.#maxQueue = options.maxQueue ?? 256;
  }

  /** Low-priority hashing threads (Linux), created on first use; null: libuv's pool. */
  get #pool(): Argon2Workers | null {
    if (this.#workers === undefined) this.#workers = createArgon2Workers(this.#concurrency);
    return this.#workers;
  }

  async #slot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      if (this.#queue.length >= this.#maxQueue)
        throw new TokenwardError('too_many_attempts', { headers: { 'Retry-After': '1' } });
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }

  hash(password: string): Promise<string> {
    return this.#slot(() => this.#pool?.hash(password, ARGON2_PARAMS) ?? hash(password, ARGON2_PARAMS));
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.#slot(async () => {
      try {
        return await (this.#pool?.verify(passwordHash, password) ?? verify(passwordHash, password));
      } catch {
        return false;
      }
    });
  }

  needsRehash(passwordHash: string): boolean {
    return !passwordHash.startsWith(PARAM_MARK);
  }

  dummyHash(): Promise<string> {
    this.#dummy ??= hash(randomToken(24), ARGON2_PARAMS);
    return this.#dummy;
  }
}
