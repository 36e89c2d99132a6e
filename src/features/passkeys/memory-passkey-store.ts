import type { Passkey, PasskeyStore } from './store.js';

/** {@link PasskeyStore} in memory (beside the in-memory store, for unit tests). */
export class MemoryPasskeyStore implements PasskeyStore {
  readonly #rows = new Map<string, Passkey>();

  #copy(p: Passkey): Passkey {
    return { ...p, transports: [...p.transports] };
  }

  async add(passkey: Passkey): Promise<'ok' | 'credential_taken'> {
    // No await between the check and the write: atomic on this event loop.
    for (const row of this.#rows.values()) if (row.credentialId === passkey.credentialId) return 'credential_taken';
    this.#rows.set(passkey.id, this.#copy(passkey));
    return 'ok';
  }

  async listForUser(userId: string): Promise<Passkey[]> {
    return [...this.#rows.values()]
      .filter((p) => p.userId === userId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((p) => this.#copy(p));
  }

  async countForUser(userId: string): Promise<number> {
    let n = 0;
    for (const p of this.#rows.values()) if (p.userId === userId) n++;
    return n;
  }

  async findByCredentialId(credentialId: string): Promise<Passkey | null> {
    for (const p of this.#rows.values()) if (p.credentialId === credentialId) return this.#copy(p);
    return null;
  }

  async findForUser(userId: string, id: string): Promise<Passkey | null> {
    const p = this.#rows.get(id);
    return p && p.userId === userId ? this.#copy(p) : null;
  }

  async rename(userId: string, id: string, name: string): Promise<Passkey | null> {
    const p = this.#rows.get(id);
    if (!p || p.userId !== userId) return null;
    p.name = name;
    return this.#copy(p);
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const p = this.#rows.get(id);
    if (!p || p.userId !== userId) return false;
    this.#rows.delete(id);
    return true;
  }

  async recordUse(id: string, use: { counter: number; backedUp: boolean; at: number }): Promise<boolean> {
    const p = this.#rows.get(id);
    if (!p) return false;
    const advances = use.counter === 0 ? p.counter === 0 : p.counter < use.counter;
    if (!advances) return false;
    p.counter = use.counter;
    p.backedUp = use.backedUp;
    p.lastUsedAt = use.at;
    return true;
  }
}
