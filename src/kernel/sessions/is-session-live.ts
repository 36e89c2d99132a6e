import type { Session } from '../ports.js';

/**
 * Whether a session can still be used at `now`: not revoked, not idle-expired, not past its
 * absolute lifetime. The one definition of "live" (the stores' rotation decision uses it too).
 *
 * @example
 * ```ts
 * if (!isSessionLive(session, clock.now())) throw new TokenwardError('not_found');
 * ```
 */
export function isSessionLive(session: Session | null, now: number): session is Session {
  return (
    session !== null && session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now
  );
}
