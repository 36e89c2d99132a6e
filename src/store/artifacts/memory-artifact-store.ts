import type { Artifact, ArtifactStore } from '../../kernel/ports.js';

/** {@link ArtifactStore} in memory (the in-memory store's, for unit tests). */
export class MemoryArtifactStore implements ArtifactStore {
  readonly #rows = new Map<string, Artifact>();

  async put(a: Omit<Artifact, 'consumedAt'>): Promise<void> {
    if (this.#rows.has(a.hash)) throw new Error('artifact hash collision');
    this.#rows.set(a.hash, { ...a, data: a.data === null ? null : structuredClone(a.data), consumedAt: null });
  }

  async consume(kind: string, hash: string, now: number): Promise<Artifact | null> {
    // No await between the check and the write: atomic on this event loop.
    const row = this.#rows.get(hash);
    if (!row || row.kind !== kind || row.consumedAt !== null || row.expiresAt <= now) return null;
    row.consumedAt = now;
    return { ...row, data: row.data === null ? null : structuredClone(row.data) };
  }

  async find(kind: string, hash: string): Promise<Artifact | null> {
    const row = this.#rows.get(hash);
    return row && row.kind === kind ? { ...row, data: row.data === null ? null : structuredClone(row.data) } : null;
  }

  async deleteForUser(userId: string, kinds?: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const [hash, row] of this.#rows) {
      if (row.userId === userId && (kinds === undefined || kinds.includes(row.kind))) {
        this.#rows.delete(hash);
        deleted++;
      }
    }
    return deleted;
  }

  async prune(before: number): Promise<number> {
    let deleted = 0;
    for (const [hash, row] of this.#rows) {
      if (row.expiresAt < before) {
        this.#rows.delete(hash);
        deleted++;
      }
    }
    return deleted;
  }
}
