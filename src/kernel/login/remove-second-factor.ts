import { TokenwardError } from '../../errors.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { SecondFactor } from './factors.js';

/** How long the per-user lock may be held (a crashed holder frees it by expiry). */
const LOCK_TTL_SEC = 10;
/** How long a removal waits for the lock before answering 429. */
const LOCK_WAIT_MS = 3000;

function enrolledCount(factor: SecondFactor, userId: string): Promise<number> {
  if (factor.enrolledCount) return factor.enrolledCount(userId);
  return factor.isEnrolled(userId).then((enrolled) => (enrolled ? 1 : 0));
}

/**
 * Removes one of a user's second factors (one passkey, TOTP) — unless `requireMfa` is on and it
 * is the account's last one: 409 `last_second_factor`, nothing removed (the account would fall
 * back to a password alone, which the policy forbids).
 *
 * Two removals racing (two tabs deleting the last two passkeys, a passkey and TOTP at once, on
 * two nodes) would each see "another factor remains" and together remove both. So the count and
 * the removal run under a per-user lock in the shared limiter (Redis when configured): one
 * removal at a time per account, on every node. `remove` resolves whether something was removed.
 *
 * @example
 * ```ts
 * await removeSecondFactor(deps, userId, () => passkeys.delete(userId, id));
 * ```
 */
export async function removeSecondFactor(
  d: Pick<KernelDeps, 'factors' | 'limiter' | 'policy'>,
  userId: string,
  remove: () => Promise<boolean>,
): Promise<boolean> {
  if (!d.policy.requireMfa) return remove();
  const key = `factors:remove:${userId}`;
  const started = Date.now();
  for (let wait = 5; !(await d.limiter.claimOnce(key, LOCK_TTL_SEC)); wait = Math.min(wait * 2, 50)) {
    if (Date.now() - started > LOCK_WAIT_MS)
      throw new TokenwardError('too_many_attempts', { headers: { 'Retry-After': '1' } });
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  try {
    let total = 0;
    for (const factor of d.factors) total += await enrolledCount(factor, userId);
    if (total <= 1) throw new TokenwardError('last_second_factor');
    return await remove();
  } finally {
    await d.limiter.releaseClaim(key);
  }
}
