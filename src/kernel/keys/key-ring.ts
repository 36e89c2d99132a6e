import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { open, seal } from '../crypto/seal.js';
import type { Clock, SigningKeyRecord, SigningKeyState, Store } from '../ports.js';
import type { SigningAlgorithm, SigningKey, VerificationKey } from '../tokens/access-token.js';

/** Public JWKS document. */
export interface Jwks {
  keys: JWK[];
}

/** How often every node re-reads the signing keys from the store (seconds). */
export const KEY_RELOAD_INTERVAL_SEC = 10;

/** Clock disagreement allowed between nodes and other services' verifiers (seconds). */
export const KEY_CLOCK_SKEW_SEC = 60;

/** Least time between two store reads caused by tokens with an unknown `kid` (ms). */
export const UNKNOWN_KID_RELOAD_MS = 1000;
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** Upper bound of the JWKS `Cache-Control: max-age` (seconds). */
export const JWKS_MAX_AGE_CEILING_SEC = 300;

/**
 * The timing rules of key rotation, all derived from the access-token lifetime:
 *
 * - `jwksMaxAgeSec`: how long anyone may cache the JWKS document.
 * - `publishSec`: a `next` key is published at least this long before it may sign, so every
 *   node has reloaded it and every JWKS cache fetched before it was published has expired.
 * - `retireSec`: a `retiring` key stays published this long after it stopped signing, so every
 *   token it signed has expired everywhere (a node may keep signing with it until its next
 *   reload; verifiers may allow clock skew).
 */
export interface KeySchedule {
  jwksMaxAgeSec: number;
  publishSec: number;
  retireSec: number;
}

/**
 * The rotation schedule for an access-token lifetime.
 *
 * @example
 * ```ts
 * keySchedule(600); // { jwksMaxAgeSec: 300, publishSec: 315, retireSec: 670 }
 * ```
 */
export function keySchedule(accessTtlSec: number): KeySchedule {
  const jwksMaxAgeSec = Math.max(1, Math.min(JWKS_MAX_AGE_CEILING_SEC, accessTtlSec));
  return {
    jwksMaxAgeSec,
    publishSec: jwksMaxAgeSec + KEY_RELOAD_INTERVAL_SEC + 5,
    retireSec: accessTtlSec + KEY_RELOAD_INTERVAL_SEC + KEY_CLOCK_SKEW_SEC,
  };
}

/** What `keys list` shows of a key: never private material. */
export interface SigningKeyInfo {
  kid: string;
  alg: string;
  state: SigningKeyState;
  createdAt: number;
  /** When the state last changed. */
  updatedAt: number;
  /** `next`: earliest promotion time; `retiring`: when it becomes `retired`. Epoch ms. */
  dueAt: number | null;
}

/** Outcome of {@link KeyRing.rotate}. */
export type RotationResult =
  /** A new `next` key was published; promote it with another rotate at `promotableAt`. */
  | { action: 'published'; next: SigningKeyInfo; promotableAt: number }
  /** The `next` key has not been published long enough; nothing changed. */
  | { action: 'waiting'; next: SigningKeyInfo; promotableAt: number }
  /** The `next` key now signs; the old `current` key is `retiring`. */
  | { action: 'promoted'; current: SigningKeyInfo; retiring: SigningKeyInfo | null; early: boolean };

/** Options of {@link KeyRing}. */
export interface KeyRingOptions {
  store: Store;
  sealKey: CryptoKey;
  algorithm: SigningAlgorithm;
  clock: Clock;
  /**
   * The access-token lifetime, which decides when a `retiring` key may be unpublished and the
   * JWKS cache lifetime. Default 24 h (the largest allowed), which never unpublishes a key early.
   */
  accessTtlSec?: number | undefined;
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

function publicOnly(jwk: JWK, kid: string, alg: string): JWK {
  const out: JWK = { kid, alg, use: 'sig' };
  for (const name of PUBLIC_MEMBERS) if (jwk[name] !== undefined) out[name] = jwk[name];
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The signing keys of this issuer, loaded from the store. One key is `current` (signs); every
 * key that may still verify a live token (`next`, `current`, `retiring`) is published in JWKS.
 * Private keys are stored sealed with a key derived from the server secret.
 *
 * Rotation never produces a token another node cannot verify: a key is published as `next`
 * before it signs ({@link KeyRing.rotate}), a node that meets an unknown `kid` re-reads the
 * store (at most once per second) before rejecting, and a `retiring` key stays published until
 * every token it signed has expired.
 */
export class KeyRing {
  readonly #store: Store;
  readonly #sealKey: CryptoKey;
  readonly #alg: SigningAlgorithm;
  readonly #clock: Clock;
  /** The rotation schedule of this issuer. */
  readonly schedule: KeySchedule;
  #current: SigningKey | undefined;
  #verifying = new Map<string, VerificationKey>();
  #jwks: Jwks = { keys: [] };
  #fingerprint = '';
  #running: Promise<boolean> | undefined;
  #queued: Promise<boolean> | undefined;
  #unknownKidReload: Promise<unknown> | undefined;
  #lastUnknownKidReload = Number.NEGATIVE_INFINITY;
  /** Increments whenever the set of keys changes (verified-token caches drop their entries). */
  version = 0;

  constructor(options: KeyRingOptions) {
    this.#store = options.store;
    this.#sealKey = options.sealKey;
    this.#alg = options.algorithm;
    this.#clock = options.clock;
    this.schedule = keySchedule(options.accessTtlSec ?? 86_400);
  }

  /**
   * Loads keys; creates the first key when the store has no current key of the configured
   * algorithm (a current key of another algorithm becomes `retiring`).
   */
  async load(): Promise<void> {
    let records = await this.#store.listSigningKeys();
    // A promotion in flight (old key demoted, next not yet promoted) lasts one statement.
    for (
      let i = 0;
      i < 10 && !records.some((r) => r.state === 'current') && records.some((r) => r.state === 'next');
      i++
    ) {
      await sleep(100);
      records = await this.#store.listSigningKeys();
    }
    if (!records.some((r) => r.state === 'current' && r.alg === this.#alg)) {
      const now = this.#clock.now();
      const current = records.find((r) => r.state === 'current');
      if (current) await this.#store.setSigningKeyState(current.kid, 'retiring', now);
      // A published key of this algorithm (a rotation interrupted half-way) is known to the
      // other nodes already: prefer it to a fresh one.
      const next = records.find((r) => r.state === 'next' && r.alg === this.#alg);
      if (next) await this.#promoteIgnoringRace(next.kid, now);
      else await this.#store.insertSigningKey(await this.generate('current'));
      records = await this.#store.listSigningKeys();
    }
    await this.#apply(records);
  }

  /**
   * Re-reads the store (another node may have rotated) and retires `retiring` keys whose
   * tokens have all expired. The read starts after the call (callers arriving before it starts
   * share it; reloads never overlap). Returns true when keys changed.
   */
  reload(): Promise<boolean> {
    if (this.#queued) return this.#queued;
    const previous = this.#running ?? Promise.resolve(false);
    const run: Promise<boolean> = previous
      .catch(() => false)
      .then(() => {
        if (this.#queued === run) this.#queued = undefined;
        this.#running = run;
        return this.#reload();
      })
      .finally(() => {
        if (this.#running === run) this.#running = undefined;
      });
    this.#queued = run;
    return run;
  }

  async #reload(): Promise<boolean> {
    const before = this.version;
    await this.#apply(await this.#retireExpired(await this.#store.listSigningKeys()));
    return this.version !== before;
  }

  /** Creates a key record (not stored). */
  async generate(state: SigningKeyRecord['state']): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(this.#alg, {
      extractable: true,
      ...(this.#alg === 'RS256' ? { modulusLength: 2048 } : {}),
    });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    const now = this.#clock.now();
    return {
      kid,
      alg: this.#alg,
      state,
      publicJwk: JSON.stringify(publicOnly(publicJwk, kid, this.#alg)),
      privateJwkSealed: await seal(this.#sealKey, JSON.stringify(privateJwk), `signing-key:${kid}`),
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * One step of key rotation, safe to run at any time from any process sharing the store:
   *
   * 1. no `next` key: publishes a new one (configured algorithm) that does not sign yet;
   * 2. a `next` key published for at least `schedule.publishSec`: promotes it to `current` and
   *    moves the old current to `retiring`;
   * 3. otherwise nothing changes (`waiting`).
   *
   * `early: true` promotes without waiting (publishing first when needed). Nodes still verify
   * every token, since an unknown `kid` makes them re-read the store; other services'
   * verifiers may reject tokens of the new key until they refetch the JWKS.
   * `retiring` keys past `schedule.retireSec` are retired first.
   *
   * @example
   * ```ts
   * const step = await ring.rotate();
   * if (step.action === 'published') console.log('promote after', new Date(step.promotableAt));
   * ```
   */
  async rotate(options: { early?: boolean } = {}): Promise<RotationResult> {
    let records = await this.#store.listSigningKeys();
    // A key sealed with another secret would be unusable by the nodes: refuse before writing.
    const sealed = records.find((r) => r.state === 'current') ?? records.find((r) => r.state === 'next');
    if (sealed && (await open(this.#sealKey, sealed.privateJwkSealed, `signing-key:${sealed.kid}`)) === null) {
      throw new Error(
        `signing key ${sealed.kid} cannot be opened: the secret (TOKENWARD_SECRET) differs from the one the servers use`,
      );
    }
    records = await this.#retireExpired(records);
    const now = this.#clock.now();
    // A next key of another algorithm (the configuration changed since it was published) never
    // signed: retire it and publish one of the configured algorithm.
    for (const r of records) {
      if (r.state === 'next' && r.alg !== this.#alg) await this.#store.setSigningKeyState(r.kid, 'retired', now);
    }
    records = records.filter((r) => !(r.state === 'next' && r.alg !== this.#alg));
    let next = records.find((r) => r.state === 'next');
    let published = false;
    if (next === undefined) {
      next = await this.generate('next');
      await this.#store.insertSigningKey(next);
      published = true;
    }
    const promotableAt = next.updatedAt + this.schedule.publishSec * 1000;
    if (!options.early && now < promotableAt) {
      return { action: published ? 'published' : 'waiting', next: this.#info(next), promotableAt };
    }
    const old = records.find((r) => r.state === 'current');
    if (old) await this.#store.setSigningKeyState(old.kid, 'retiring', now);
    try {
      await this.#store.setSigningKeyState(next.kid, 'current', now);
    } catch (error) {
      // Another process promoted a key in between: the old key must sign again, not stay retired.
      if (old) await this.#store.setSigningKeyState(old.kid, 'current', now).catch(() => undefined);
      throw error;
    }
    await this.reload().catch(() => undefined);
    return {
      action: 'promoted',
      current: this.#info({ ...next, state: 'current', updatedAt: now }),
      retiring: old ? this.#info({ ...old, state: 'retiring', updatedAt: now }) : null,
      early: now < promotableAt,
    };
  }

  /**
   * Retires every `retiring` key whose tokens have all expired (`schedule.retireSec` after it
   * stopped signing). Nodes do this on every reload; returns the retired kids.
   *
   * @example
   * ```ts
   * const kids = await ring.prune();
   * ```
   */
  async prune(): Promise<string[]> {
    const before = await this.#store.listSigningKeys();
    const after = await this.#retireExpired(before);
    await this.#apply(after).catch(() => undefined);
    return before.filter((r, i) => r.state !== after[i]?.state).map((r) => r.kid);
  }

  /**
   * Every key in the store with its public metadata and the time of its next transition.
   *
   * @example
   * ```ts
   * for (const k of await ring.list()) console.log(k.kid, k.state);
   * ```
   */
  async list(): Promise<SigningKeyInfo[]> {
    return (await this.#store.listSigningKeys()).map((r) => this.#info(r));
  }

  #info(r: SigningKeyRecord): SigningKeyInfo {
    const dueAt =
      r.state === 'next'
        ? r.updatedAt + this.schedule.publishSec * 1000
        : r.state === 'retiring'
          ? r.updatedAt + this.schedule.retireSec * 1000
          : null;
    return { kid: r.kid, alg: r.alg, state: r.state, createdAt: r.createdAt, updatedAt: r.updatedAt, dueAt };
  }

  async #retireExpired(records: SigningKeyRecord[]): Promise<SigningKeyRecord[]> {
    const now = this.#clock.now();
    const out: SigningKeyRecord[] = [];
    for (const r of records) {
      if (r.state === 'retiring' && now >= r.updatedAt + this.schedule.retireSec * 1000) {
        await this.#store.setSigningKeyState(r.kid, 'retired', now);
        out.push({ ...r, state: 'retired', updatedAt: now });
      } else {
        out.push(r);
      }
    }
    return out;
  }

  async #promoteIgnoringRace(kid: string, now: number): Promise<void> {
    try {
      await this.#store.setSigningKeyState(kid, 'current', now);
    } catch {
      // Another node promoted or created a current key first; the caller re-reads the store.
    }
  }

  async #apply(records: SigningKeyRecord[]): Promise<void> {
    const live = records.filter((r) => r.state !== 'retired');
    const fingerprint = live
      .map((r) => `${r.kid}:${r.state}`)
      .sort()
      .join(',');
    if (fingerprint === this.#fingerprint && this.#current) return;
    const verifying = new Map<string, VerificationKey>();
    const jwks: JWK[] = [];
    let current: SigningKey | undefined;
    for (const record of live) {
      const alg = record.alg as SigningAlgorithm;
      const jwk = JSON.parse(record.publicJwk) as JWK;
      verifying.set(record.kid, { alg, key: (await importJWK(jwk, alg)) as CryptoKey });
      jwks.push(jwk);
      if (record.state === 'current') {
        const privateText = await open(this.#sealKey, record.privateJwkSealed, `signing-key:${record.kid}`);
        if (privateText === null) {
          throw new Error(
            `signing key ${record.kid} cannot be opened: the secret (TOKENWARD_SECRET) differs from the one that sealed it`,
          );
        }
        current = { kid: record.kid, alg, key: (await importJWK(JSON.parse(privateText) as JWK, alg)) as CryptoKey };
      }
    }
    // Read between the two statements of a promotion: keep signing with the previous key while
    // it is still published (it is `retiring` now), and pick up the new one on the next reload.
    const transitional = current === undefined;
    if (!current && this.#current && verifying.has(this.#current.kid)) current = this.#current;
    if (!current) throw new Error('no current signing key in the store');
    this.#current = current;
    this.#verifying = verifying;
    this.#jwks = { keys: jwks };
    this.#fingerprint = transitional ? '' : fingerprint;
    this.version++;
  }

  /** The key that signs new tokens. */
  current(): SigningKey {
    if (!this.#current) throw new Error('KeyRing.load() was not called');
    return this.#current;
  }

  /**
   * The verification key of `kid`. An unknown `kid` may belong to a key another process has
   * just promoted: the store is re-read before answering undefined. Such reads happen at most
   * once per {@link UNKNOWN_KID_RELOAD_MS} (tokens with invented kids wait for the next one
   * instead of each causing a read), and always start after the token arrived.
   */
  keyFor(kid: string): VerificationKey | undefined | Promise<VerificationKey | undefined> {
    const known = this.#verifying.get(kid);
    if (known !== undefined) return known;
    // Every kid this issuer makes is an RFC 7638 SHA-256 thumbprint: anything else is forged
    // and is rejected at once, without waiting for a store read.
    if (!THUMBPRINT.test(kid)) return undefined;
    return this.#reloadForUnknownKid().then(
      () => this.#verifying.get(kid),
      () => undefined,
    );
  }

  #reloadForUnknownKid(): Promise<unknown> {
    if (this.#unknownKidReload) return this.#unknownKidReload;
    // A throttle, not a rule of the domain: monotonic time, not the injected clock.
    const wait = Math.max(0, this.#lastUnknownKidReload + UNKNOWN_KID_RELOAD_MS - performance.now());
    const pending = sleep(wait).then(() => {
      this.#unknownKidReload = undefined;
      this.#lastUnknownKidReload = performance.now();
      return this.reload();
    });
    this.#unknownKidReload = pending;
    return pending;
  }

  /** The public keys to publish (`next`, `current`, `retiring`). */
  jwks(): Jwks {
    return this.#jwks;
  }

  /** Algorithms of the live keys (verification allow-list). */
  algorithms(): SigningAlgorithm[] {
    return [...new Set([...this.#verifying.values()].map((k) => k.alg))];
  }
}
