import { nodeCrypto } from './node-crypto.js';

/**
 * Whether two secrets (or digests of them) are equal, in constant time: both are hashed once more
 * to equal-length SHA-256 digests and compared with `timingSafeEqual`, so the time taken reveals
 * nothing about the stored value. Null on either side is never equal (a presenter without a
 * device identity is never "the same device").
 *
 * @example
 * ```ts
 * if (constantTimeEqual(state.rotatedBy, presenter)) { … }
 * ```
 */
export function constantTimeEqual(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  if (nodeCrypto === null) throw new Error('constantTimeEqual needs node:crypto (the stores run on Node)');
  const { createHash, timingSafeEqual } = nodeCrypto;
  return timingSafeEqual(
    createHash('sha256').update(a, 'utf8').digest(),
    createHash('sha256').update(b, 'utf8').digest(),
  );
}
