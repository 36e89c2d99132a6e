import { randomToken } from '../crypto/encoding.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { Session } from '../ports.js';
import { sessionRestriction } from '../sessions/session-restriction.js';
import type { AccessTokenClaims } from './access-token.js';
import { signAccessTokenFast } from './sign-access-token.js';

/** What an access token may carry besides the session's own claims. */
export interface AccessTokenExtras {
  /** RFC 9449 §6: the proof key the token is bound to. */
  cnf?: { jkt: string };
  /** The client of a session that has none stored (started before migration 0003). */
  clientId?: string;
}

/**
 * Signs an access token for a session; it never outlives the session's absolute expiry. Its
 * `client_id` (RFC 9068 §2.2) is the session's client; `extra.clientId` (else the browser
 * client) only for a session that has none stored. A restricted session's tokens carry
 * `tw_restriction` (see sessions/session-restriction.ts).
 */
export async function issueAccessToken(
  d: Pick<KernelDeps, 'clock' | 'policy' | 'keys'>,
  session: Session,
  extra: AccessTokenExtras = {},
): Promise<{ accessToken: string; accessExpiresAt: number }> {
  const now = d.clock.now();
  const nowSec = Math.floor(now / 1000);
  const exp = Math.min(nowSec + d.policy.accessTtlSec, Math.floor(session.absoluteExpiresAt / 1000));
  const restriction = sessionRestriction(d.policy, session.amr);
  const claims: AccessTokenClaims = {
    iss: d.policy.issuer,
    aud: d.policy.audience,
    sub: session.userId,
    sid: session.id,
    jti: randomToken(16),
    iat: nowSec,
    exp,
    auth_time: Math.floor(session.authTime / 1000),
    amr: session.amr,
    client_id: session.clientId ?? extra.clientId ?? d.policy.browserClientId,
    ...(extra.cnf ? { cnf: extra.cnf } : {}),
    ...(restriction === undefined ? {} : { tw_restriction: restriction }),
  };
  return { accessToken: await signAccessTokenFast(claims, d.keys.current()), accessExpiresAt: exp * 1000 };
}
