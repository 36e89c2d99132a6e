import { TokenwardError } from '../../errors.js';
import { randomId, sha256 } from '../crypto/encoding.js';
import { openUnder, sealUnder } from '../crypto/seal.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { Session } from '../ports.js';
import type { RequestContext } from '../request-context.js';
import { isSessionLive } from '../sessions/is-session-live.js';
import { publishRevoked } from '../sessions/revoke.js';
import { type IssuedSession, issueSession } from '../sessions/start-session.js';
import { MAX_GENERATION, mintRefreshToken, parseRefreshToken } from './refresh-token.js';

/** HKDF purpose of the key a rotated refresh token's successor is sealed under. */
const SUCCESSOR_PURPOSE = 'refresh-successor';

/** A DPoP key (RFC 7638 thumbprint) the issued tokens are bound to; absent for Bearer tokens. */
export interface TokenBinding {
  dpopJkt?: string | null;
}

/**
 * The device identity a refresh is presented with, as stored with the rotation (API.md "Tokens"):
 * for a DPoP-capable transport (`binding.dpopJkt` given) the proof key's thumbprint, else the
 * browser's device id from `__Host-tw_dev`. Stored as a domain-separated SHA-256 digest, so the
 * database never holds the raw device id (a copy of the table must not let anyone pose as the
 * device). Null when the presenter has no identity: it then gets no grace.
 */
function presenterDigest(rc: RequestContext, binding: TokenBinding): Promise<string | null> {
  if (binding.dpopJkt !== undefined)
    return binding.dpopJkt === null ? Promise.resolve(null) : sha256(`tokenward-presenter:dpop:${binding.dpopJkt}`);
  return rc.deviceId === null ? Promise.resolve(null) : sha256(`tokenward-presenter:device:${rc.deviceId}`);
}

/**
 * Rotates a refresh token. Within the grace window a rotated token yields the same successor
 * (racing tabs), but only to the device that rotated it: the same `__Host-tw_dev` device id
 * for the cookie transport, the same DPoP key for a DPoP-capable transport. Presented from
 * anywhere else, or after the window, it is reuse and revokes the session. A presenter with
 * no device identity (a native client without DPoP, a request without the device cookie) gets
 * no grace at all: it cannot show it is the device that rotated.
 *
 * `binding.dpopJkt` is the key of the request's verified DPoP proof (native clients). The
 * refresh token of a DPoP-bound session is refused, before anything rotates, unless the proof
 * key is the session's: 400 `invalid_dpop_proof` for a DPoP-capable transport (`dpopJkt`
 * given, null when the request had no proof), 401 `refresh_invalid` for the cookie transport
 * (`dpopJkt` absent). So a stolen bound token cannot be downgraded. With a proof and an
 * unbound session, the new access token is bound to the proof key.
 */
export async function rotateRefreshToken(
  d: KernelDeps,
  presented: string | null,
  rc: RequestContext,
  binding: TokenBinding = {},
): Promise<IssuedSession> {
  const parsed = presented === null ? null : await parseRefreshToken(d.refreshKey, presented);
  if (presented === null || parsed === null) throw new TokenwardError('refresh_invalid');
  const proofJkt = binding.dpopJkt ?? null;
  const now = d.clock.now();
  const presentedHash = await sha256(presented);
  let sessionId: string;
  let generation: number;
  if (parsed.kind === 'current') {
    ({ sessionId, generation } = parsed);
  } else {
    // A token from before the constant-space format: its hash leads to its session (generation 0).
    const session = await d.store.findSessionByRefreshHash(presentedHash);
    if (session === null) throw new TokenwardError('refresh_invalid');
    sessionId = session.id;
    generation = 0;
  }
  if (generation >= MAX_GENERATION) throw new TokenwardError('session_expired');
  const successor = await mintRefreshToken(d.refreshKey, sessionId, generation + 1);
  // Sealed under a key derived from the presented token: only its holder can read it back (grace window).
  const [successorHash, successorSealed, presenter] = await Promise.all([
    sha256(successor),
    sealUnder(presented, SUCCESSOR_PURPOSE, successor),
    presenterDigest(rc, binding),
  ]);
  const outcome = await d.store.rotateRefreshToken({
    sessionId,
    generation,
    presentedHash,
    successorHash,
    successorSealed,
    now,
    graceMs: d.policy.refreshGraceSec * 1000,
    idleMs: d.policy.refreshIdleSec * 1000,
    presenter,
    proofJkt,
    reuseEvent: {
      id: randomId(),
      type: 'refresh.reuse_detected',
      at: now,
      ip: rc.ip,
      device: d.describeDevice?.(rc.userAgent) ?? null,
      data: null,
    },
  });
  switch (outcome.kind) {
    case 'binding_mismatch':
      throw new TokenwardError(binding.dpopJkt === undefined ? 'refresh_invalid' : 'invalid_dpop_proof');
    case 'invalid':
      throw new TokenwardError('refresh_invalid');
    case 'expired':
      // The session of a disabled account says why it ended (while the account stays disabled).
      if (outcome.session.revokeReason === 'account_disabled' && (await isDisabled(d, outcome.session.userId)))
        throw new TokenwardError('account_disabled');
      throw new TokenwardError('session_expired');
    case 'reused':
      await publishRevoked(d, [outcome.session.id], now);
      throw new TokenwardError('refresh_reused');
    case 'grace': {
      const token = await openUnder(presented, SUCCESSOR_PURPOSE, outcome.successorSealed);
      if (token === null) throw new TokenwardError('refresh_invalid');
      return issueFor(d, outcome.session, token, proofJkt, rc);
    }
    case 'rotated':
      return issueFor(d, outcome.session, successor, proofJkt, rc);
  }
}

async function issueFor(
  d: KernelDeps,
  session: Session,
  refreshToken: string,
  proofJkt: string | null,
  rc: RequestContext,
): Promise<IssuedSession> {
  const user = await d.store.findUserById(session.userId);
  if (!user) throw new TokenwardError('refresh_invalid');
  // A disabled account's sessions are revoked when it is disabled; should one have been missed
  // (a rotation racing the revocation), the refresh still refuses it and ends it now.
  if (user.disabledAt != null) {
    if (await d.store.revokeSession(session.id, d.clock.now(), 'account_disabled'))
      await publishRevoked(d, [session.id], d.clock.now());
    throw new TokenwardError('account_disabled');
  }
  // The session keeps its client; only a session from before migration 0003 takes the refreshing transport's.
  return issueSession(d, user, session, refreshToken, session.dpopJkt ?? proofJkt, rc.clientId);
}

async function isDisabled(d: KernelDeps, userId: string): Promise<boolean> {
  return (await d.store.findUserById(userId))?.disabledAt != null;
}

/** The session a refresh token belongs to, if still live (the double-submit binding of refresh and logout). */
export async function sessionForRefreshToken(
  d: Pick<KernelDeps, 'store' | 'clock' | 'refreshKey'>,
  presented: string | null,
): Promise<Session | null> {
  const parsed = presented === null ? null : await parseRefreshToken(d.refreshKey, presented);
  if (presented === null || parsed === null) return null;
  // A MAC-valid token names its session; only the server can mint one.
  const session =
    parsed.kind === 'current'
      ? await d.store.getSession(parsed.sessionId)
      : await d.store.findSessionByRefreshHash(await sha256(presented));
  return isSessionLive(session, d.clock.now()) ? session : null;
}
