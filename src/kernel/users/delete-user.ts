import { randomId } from '../crypto/encoding.js';
import { SECURITY_EVENT_TYPES } from '../events.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { AuthEvent } from '../ports.js';
import type { RequestContext } from '../request-context.js';
import { publishRevoked } from '../sessions/revoke.js';

/**
 * Deletes an account and everything that belongs to it in one store transaction (see
 * `Store.deleteUser`): the sessions that were active are recorded as revoked first and fanned out,
 * so their access tokens stop working on every node within 1 s although their rows are gone.
 * Traces of attacks stay, anonymised, with an `account.deleted` event that names no one. Returns
 * the number of sessions ended, or null when the user did not exist.
 *
 * @example
 * ```ts
 * const ended = await deleteUser(deps, session.userId, rc);
 * ```
 */
export async function deleteUser(d: KernelDeps, userId: string, rc: RequestContext | null): Promise<number | null> {
  const at = d.clock.now();
  const event: AuthEvent = {
    id: randomId(),
    // No user id: the kept trail must not point at the person who asked to be forgotten.
    userId: null,
    type: 'account.deleted',
    at,
    ip: rc?.ip ?? null,
    sessionId: null,
    device: rc && d.describeDevice ? d.describeDevice(rc.userAgent) : null,
    data: rc === null ? { by: 'admin' } : null,
  };
  const revoked = await d.store.deleteUser({ userId, at, keepEventTypes: SECURITY_EVENT_TYPES, event });
  if (revoked === null) return null;
  if (revoked.length > 0) await publishRevoked(d, revoked, at);
  d.onEvent?.(event);
  return revoked.length;
}
