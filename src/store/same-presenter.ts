import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a rotated refresh token is presented again by the presenter that rotated it (the
 * grace-window rule of API.md "Tokens"). Both values are digests of a device id or DPoP key;
 * they are hashed once more to equal-length buffers and compared with `timingSafeEqual`, so the
 * time taken reveals nothing about the stored digest. Null on either side is never the same:
 * a presenter without a device identity gets no grace.
 *
 * @example
 * ```ts
 * if (token.usedAt !== null && now < token.usedAt + graceMs && isSamePresenter(token.rotatedBy, input.presenter)) { … }
 * ```
 */
export function isSamePresenter(rotatedBy: string | null, presenter: string | null): boolean {
  if (rotatedBy === null || presenter === null) return false;
  const a = createHash('sha256').update(rotatedBy, 'utf8').digest();
  const b = createHash('sha256').update(presenter, 'utf8').digest();
  return timingSafeEqual(a, b);
}
