import type { KernelDeps } from './kernel-deps.js';
import type { Session, User } from './ports.js';
import { type AccessTokenClaims, verifyAccessToken } from './tokens/access-token.js';

/**
 * The claims of an access token already verified and cached, without waiting for anything:
 * `undefined` when the token is not in the cache (verify it with {@link authenticateToken}),
 * `null` when its session is revoked. The revoked-session check runs on every call.
 */
export function authenticateCachedToken(d: KernelDeps, token: string): AccessTokenClaims | null | undefined {
  const { cache, keys, revocations } = d;
  if (d.cacheState.version !== keys.version) return undefined;
  const claims = cache.get(d.cacheKey(token), d.clock.now());
  if (claims === undefined) return undefined;
  return revocations.has(claims.sid) ? null : claims;
}

/**
 * Authenticates an access token: signature and claims (cached per exact token string, dropped
 * when the signing keys change), then the revoked-session check on every call. Null when
 * invalid, expired or revoked.
 */
export async function authenticateToken(d: KernelDeps, token: string): Promise<AccessTokenClaims | null> {
  const { cache, keys, revocations, clock } = d;
  if (d.cacheState.version !== keys.version) {
    cache.clear();
    d.cacheState.version = keys.version;
  }
  const now = clock.now();
  const key = d.cacheKey(token);
  let claims = cache.get(key, now);
  if (claims === undefined) {
    const result = await verifyAccessToken(token, {
      issuer: d.policy.issuer,
      audience: d.policy.audience,
      algorithms: keys.algorithms(),
      keyFor: (kid) => keys.keyFor(kid),
      now,
    });
    if (!result.ok) return null;
    claims = result.claims;
    cache.set(key, claims);
  }
  if (revocations.has(claims.sid)) return null;
  return claims;
}

/** Loads the user and session behind verified claims (for `/auth/me`); null when either is gone or revoked. */
export async function describeSession(
  d: Pick<KernelDeps, 'store'>,
  claims: AccessTokenClaims,
): Promise<{ user: User; session: Session } | null> {
  const [user, session] = await Promise.all([d.store.findUserById(claims.sub), d.store.getSession(claims.sid)]);
  if (!user || !session || session.revokedAt !== null) return null;
  return { user, session };
}
