import type { Store } from '../../kernel/ports.js';
import { sqlAccessOf } from '../../store/sql-access.js';
import { KyselyPasskeyStore } from './kysely-passkey-store.js';
import { MemoryPasskeyStore } from './memory-passkey-store.js';

/** How an authenticator says a credential lives (WebAuthn §6.1.3, the BE flag). */
export type PasskeyDeviceType = 'singleDevice' | 'multiDevice';

/**
 * A registered WebAuthn credential. Public data only: the public key verifies assertions, and
 * nothing here lets anyone produce one.
 */
export interface Passkey {
  /** Tokenward's id (what the API and the security page show; not the credential id). */
  id: string;
  userId: string;
  /** The credential id (base64url), unique across every account. */
  credentialId: string;
  /** The COSE public key (base64url). */
  publicKey: string;
  /** The last signature counter seen (WebAuthn §6.1.1; 0 for authenticators that keep none). */
  counter: number;
  /** Transports the authenticator named (`internal`, `usb`, `hybrid`, …): hints for `allowCredentials`. */
  transports: string[];
  /** `multiDevice` (backup eligible: a synced passkey) or `singleDevice` (bound to one authenticator). */
  deviceType: PasskeyDeviceType;
  /** The credential is currently backed up (the BS flag, updated at each use). */
  backedUp: boolean;
  /** The authenticator model's AAGUID (all zeros without attestation). */
  aaguid: string;
  /** The user's label ("MacBook Touch ID"). */
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** The passkeys table: written once with Kysely for SQLite and PostgreSQL, and once in memory. */
export interface PasskeyStore {
  /** Inserts a passkey; `'credential_taken'` when its credential id is registered already (to anyone). */
  add(passkey: Passkey): Promise<'ok' | 'credential_taken'>;
  /** A user's passkeys, oldest first. */
  listForUser(userId: string): Promise<Passkey[]>;
  countForUser(userId: string): Promise<number>;
  findByCredentialId(credentialId: string): Promise<Passkey | null>;
  /** One passkey of this user (null when unknown or another user's). */
  findForUser(userId: string, id: string): Promise<Passkey | null>;
  /** Renames one of the user's passkeys; null when unknown or another user's. */
  rename(userId: string, id: string, name: string): Promise<Passkey | null>;
  /** Deletes one of the user's passkeys; false when unknown or another user's. */
  delete(userId: string, id: string): Promise<boolean>;
  /**
   * Records a verified assertion in one atomic statement: the counter advances only when the
   * new one is greater (or both are 0: an authenticator without a counter). False when it did
   * not advance — a counter that went backwards or stood still (WebAuthn §7.2 step 21: a cloned
   * authenticator), also when two assertions race with the same counter.
   */
  recordUse(id: string, use: { counter: number; backedUp: boolean; at: number }): Promise<boolean>;
}

const memory = new WeakMap<Store, MemoryPasskeyStore>();

/**
 * The passkeys table of a store: Kysely on SQLite and PostgreSQL, a map beside the in-memory
 * store (one per store).
 *
 * @example
 * ```ts
 * const passkeys = passkeyStoreFor(ctx.store);
 * const mine = await passkeys.listForUser(userId);
 * ```
 */
export function passkeyStoreFor(store: Store): PasskeyStore {
  const access = sqlAccessOf(store);
  if (access) return new KyselyPasskeyStore(access);
  let m = memory.get(store);
  if (!m) {
    m = new MemoryPasskeyStore();
    memory.set(store, m);
  }
  return m;
}
