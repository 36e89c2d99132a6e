import type { ArtifactStore, Store } from '../../kernel/ports.js';
import { sqlAccessOf } from '../sql-access.js';
import { KyselyArtifactStore } from './kysely-artifact-store.js';
import { MemoryArtifactStore } from './memory-artifact-store.js';

const memory = new WeakMap<Store, MemoryArtifactStore>();

/**
 * The artifacts table of a store: Kysely on SQLite and PostgreSQL, a map beside the in-memory
 * store (one per store, so every user of that store sees the same artifacts).
 *
 * @example
 * ```ts
 * const artifacts = artifactStoreFor(store);
 * const link = await artifacts.consume('password-reset', await sha256(token), clock.now());
 * ```
 */
export function artifactStoreFor(store: Store): ArtifactStore {
  const access = sqlAccessOf(store);
  if (access) return new KyselyArtifactStore(access);
  let m = memory.get(store);
  if (!m) {
    m = new MemoryArtifactStore();
    memory.set(store, m);
  }
  return m;
}
