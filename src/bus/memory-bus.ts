import type { RevocationBus } from '../kernel/ports.js';

type Revocations = Array<{ sessionId: string; at: number }>;

/** In-process revocation fan-out (one node, or several instances in one process in tests). */
export class MemoryBus implements RevocationBus {
  readonly #handlers = new Set<(r: Revocations) => void>();

  async publish(revocations: Revocations): Promise<void> {
    for (const handler of this.#handlers) handler(revocations);
  }

  subscribe(handler: (r: Revocations) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  health(): 'ok' | 'degraded' {
    return 'ok';
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
