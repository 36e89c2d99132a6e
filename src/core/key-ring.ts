import { calculateJwkThumbprint, type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { SigningAlgorithm, SigningKey, VerificationKey } from './access-token.js';
import type { Clock, SigningKeyRecord, Store } from './ports.js';
import { open, seal } from './seal.js';

/** Public JWKS document. */
export interface Jwks {
  keys: JWK[];
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

function publicOnly(jwk: JWK, kid: string, alg: string): JWK {
  const out: JWK = { kid, alg, use: 'sig' };
  for (const name of PUBLIC_MEMBERS) if (jwk[name] !== undefined) out[name] = jwk[name];
  return out;
}

/**
 * The signing keys of this issuer, loaded from the store. One key is `current` (signs); every
 * key that may still verify a live token (`next`, `current`, `retiring`) is published in JWKS.
 * Private keys are stored sealed with a key derived from the server secret.
 */
export class KeyRing {
  readonly #store: Store;
  readonly #sealKey: CryptoKey;
  readonly #alg: SigningAlgorithm;
  readonly #clock: Clock;
  #current: SigningKey | undefined;
  #verifying = new Map<string, VerificationKey>();
  #jwks: Jwks = { keys: [] };
  #fingerprint = '';
  /** Increments whenever the set of keys changes (verified-token caches drop their entries). */
  version = 0;

  constructor(options: { store: Store; sealKey: CryptoKey; algorithm: SigningAlgorithm; clock: Clock }) {
    this.#store = options.store;
    this.#sealKey = options.sealKey;
    this.#alg = options.algorithm;
    this.#clock = options.clock;
  }

  /** Loads keys; creates the first key when the store has no current key of the configured algorithm. */
  async load(): Promise<void> {
    let records = await this.#store.listSigningKeys();
    if (!records.some((r) => r.state === 'current' && r.alg === this.#alg)) {
      const current = records.find((r) => r.state === 'current');
      if (current) await this.#store.setSigningKeyState(current.kid, 'retiring', this.#clock.now());
      await this.#store.insertSigningKey(await this.generate('current'));
      records = await this.#store.listSigningKeys();
    }
    await this.#apply(records);
  }

  /** Re-reads the store (another node may have rotated). Returns true when keys changed. */
  async reload(): Promise<boolean> {
    const before = this.version;
    await this.#apply(await this.#store.listSigningKeys());
    return this.version !== before;
  }

  /** Creates a key record (not stored). */
  async generate(state: SigningKeyRecord['state']): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = await generateKeyPair(this.#alg, { extractable: true, ...(this.#alg === 'RS256' ? { modulusLength: 2048 } : {}) });
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

  async #apply(records: SigningKeyRecord[]): Promise<void> {
    const live = records.filter((r) => r.state !== 'retired');
    const fingerprint = live.map((r) => `${r.kid}:${r.state}`).sort().join(',');
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
          throw new Error(`signing key ${record.kid} cannot be opened: the secret (TOKENWARD_SECRET) differs from the one that sealed it`);
        }
        current = { kid: record.kid, alg, key: (await importJWK(JSON.parse(privateText) as JWK, alg)) as CryptoKey };
      }
    }
    if (!current) throw new Error('no current signing key in the store');
    this.#current = current;
    this.#verifying = verifying;
    this.#jwks = { keys: jwks };
    this.#fingerprint = fingerprint;
    this.version++;
  }

  current(): SigningKey {
    if (!this.#current) throw new Error('KeyRing.load() was not called');
    return this.#current;
  }

  keyFor(kid: string): VerificationKey | undefined {
    return this.#verifying.get(kid);
  }

  jwks(): Jwks {
    return this.#jwks;
  }

  /** Algorithms of the live keys (verification allow-list). */
  algorithms(): SigningAlgorithm[] {
    return [...new Set([...this.#verifying.values()].map((k) => k.alg))];
  }
}
