import { recordEvent } from '../events.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { RevokeReason, Session } from '../ports.js';
import type { RequestContext } from '../request-context.js';

/**
 * Makes revoked sessions' access tokens fail: this node's denylist first (immediately), then the
 * fan-out to the other nodes (the bus; if it fails, they still learn it by polling within 1 s).
 */
export async function publishRevoked(
  d: Pick<KernelDeps, 'revocations' | 'bus'>,
  ids: string[],
  at: number,
): Promise<void> {
  for (const id of ids) d.revocations.add(id, at);
  if (d.bus) {
    try {
      await d.bus.publish(ids.map((sessionId) => ({ sessionId, at })));
    } catch {
      // Other nodes still learn it by polling the store's revocations (≤ 1 s).
    }
  }
}

/**
 * Revokes one session (idempotent) and makes its access tokens fail everywhere; records
 * `session.revoked` with the reason. Null when it was unknown or already revoked.
 */
export async function revokeSession(
  d: KernelDeps,
  sessionId: string,
  reason: RevokeReason,
  rc: RequestContext | null,
): Promise<Session | null> {
  const now = d.clock.now();
  const session = await d.store.revokeSession(sessionId, now, reason);
  if (session) {
    await publishRevoked(d, [session.id], now);
    await recordEvent(d, {
      type: 'session.revoked',
      userId: session.userId,
      ip: rc?.ip ?? null,
      sessionId: session.id,
      data: { reason },
      ...(rc ? { userAgent: rc.userAgent } : {}),
    });
  }
  return session;
}

/**
 * Revokes every session of a user (except one, if given) and records one event:
 * `session.logout_all` (none kept) or `session.revoke_others`, with `data.reason`. Returns the revoked ids.
 */
export async function revokeUserSessions(
  d: KernelDeps,
  userId: string,
  reason: RevokeReason,
  rc: RequestContext | null,
  exceptId?: string,
): Promise<string[]> {
  const now = d.clock.now();
  const ids = await d.store.revokeUserSessions(userId, now, reason, exceptId);
  if (ids.length > 0) await publishRevoked(d, ids, now);
  await recordEvent(d, {
    // Every session (logout-all, an administrator's revocation) vs. all but the current one.
    type: exceptId === undefined ? 'session.logout_all' : 'session.revoke_others',
    userId,
    ip: rc?.ip ?? null,
    sessionId: exceptId ?? null,
    data: { count: ids.length, reason },
    ...(rc ? { userAgent: rc.userAgent } : {}),
  });
  return ids;
}
