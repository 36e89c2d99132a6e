import { recordEvent } from '../events.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { RequestContext } from '../request-context.js';
import { revokeUserSessions } from '../sessions/revoke.js';

/**
 * Disables or enables an account (`tokenward users disable|enable`). Disabling marks the user
 * first — from then on no login, refresh or token request succeeds (403 `account_disabled`) —
 * then revokes every session, which every node learns within 1 s. Returns the number of sessions
 * ended (0 when enabling), or null for an unknown user.
 *
 * @example
 * ```ts
 * await setUserDisabled(deps, user.id, true, null);
 * ```
 */
export async function setUserDisabled(
  d: KernelDeps,
  userId: string,
  disabled: boolean,
  rc: RequestContext | null,
): Promise<number | null> {
  const at = d.clock.now();
  // Marked before the revocation: a refresh racing it then finds the account disabled.
  if ((await d.store.updateUser(userId, { disabledAt: disabled ? at : null })) !== 'ok') return null;
  const revoked = disabled ? await revokeUserSessions(d, userId, 'account_disabled', rc) : [];
  await recordEvent(d, {
    type: disabled ? 'account.disabled' : 'account.enabled',
    userId,
    ip: rc?.ip ?? null,
    sessionId: null,
    data: rc === null ? { by: 'admin' } : null,
    ...(rc ? { userAgent: rc.userAgent } : {}),
  });
  return revoked.length;
}
