import { randomId, randomToken, sha256 } from '../crypto/encoding.js';
import { createCsrfToken } from '../csrf.js';
import { recordEvent } from '../events.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { Session, User } from '../ports.js';
import { mintRefreshToken } from '../refresh/refresh-token.js';
import type { RequestContext } from '../request-context.js';
import { issueAccessToken } from '../tokens/issue-access-token.js';
import { deviceMarkers, isKnownDevice } from './device.js';
import { publishRevoked } from './revoke.js';

/** Everything a transport needs to deliver a session to a browser or a native client. */
export interface IssuedSession {
  user: User;
  session: Session;
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  csrfToken: string;
}

/** Options of {@link startSession}. */
export interface StartSessionOptions {
  /** False for the first session of an account just created: there is no device to compare with. */
  detectNewDevice?: boolean;
  /** The DPoP key (RFC 7638 thumbprint) the session is bound to (native clients with a proof). */
  dpopJkt?: string | null;
}

/**
 * Creates a session for an already authenticated user — the last step of every way in (see
 * login/finish-login.ts, the one place that decides whether a session may start): the session
 * row with its first refresh token (evicting beyond the session limit), new-device detection,
 * `login.success`, and the tokens.
 */
export async function startSession(
  d: KernelDeps,
  user: User,
  rc: RequestContext,
  amr: string[],
  options: StartSessionOptions = {},
): Promise<IssuedSession> {
  const now = d.clock.now();
  const { policy } = d;
  // A browser without the device cookie gets a fresh id now, stored with the session (and set as cookie by the transport).
  const deviceId = rc.deviceId ?? randomToken(24);
  const probe = { deviceId: rc.deviceId, userAgent: rc.userAgent, ip: rc.ip };
  const markers = await deviceMarkers({ ...probe, deviceId });
  const newDevice = options.detectNewDevice !== false && !(await isKnownDevice(d.store, user.id, probe, markers, now));
  const session: Session = {
    id: randomId(),
    userId: user.id,
    createdAt: now,
    lastActiveAt: now,
    idleExpiresAt: now + Math.min(policy.refreshIdleSec, policy.refreshAbsoluteSec) * 1000,
    absoluteExpiresAt: now + policy.refreshAbsoluteSec * 1000,
    authTime: now,
    amr,
    revokedAt: null,
    revokeReason: null,
    ip: rc.ip,
    userAgent: rc.userAgent.slice(0, 512),
    deviceId,
    newDevice,
    dpopJkt: options.dpopJkt ?? null,
    clientId: rc.clientId ?? policy.browserClientId,
  };
  const refreshToken = await mintRefreshToken(d.refreshKey, session.id, 1);
  const { evicted } = await d.store.createSession({
    session,
    refreshHash: await sha256(refreshToken),
    maxSessions: policy.limits.concurrentSessions,
  });
  if (evicted.length > 0) {
    await publishRevoked(d, evicted, now);
    for (const id of evicted) {
      await recordEvent(d, {
        type: 'session.evicted',
        userId: user.id,
        ip: rc.ip,
        sessionId: id,
        userAgent: rc.userAgent,
        data: { reason: 'session_limit' },
      });
    }
  }
  // The device markers let later logins recognise this device (see sessions/device.ts).
  await recordEvent(d, {
    type: 'login.success',
    userId: user.id,
    ip: rc.ip,
    sessionId: session.id,
    userAgent: rc.userAgent,
    data: { ...markers },
  });
  if (newDevice) {
    await recordEvent(d, {
      type: 'login.new_device',
      userId: user.id,
      ip: rc.ip,
      sessionId: session.id,
      userAgent: rc.userAgent,
    });
    try {
      d.onNewDevice?.(user, session);
    } catch {
      // The alert is best effort; the login never fails because of it.
    }
  }
  return issueSession(d, user, session, refreshToken);
}

/**
 * The tokens of a session: an access token (bound to `accessJkt` for DPoP sessions — a bound
 * session only ever gets access tokens bound to the same key, RFC 9449 §6), the refresh token
 * given, and the session's double-submit CSRF token.
 */
export async function issueSession(
  d: KernelDeps,
  user: User,
  session: Session,
  refreshToken: string,
  accessJkt: string | null = session.dpopJkt,
  clientId?: string,
): Promise<IssuedSession> {
  const { accessToken, accessExpiresAt } = await issueAccessToken(d, session, {
    ...(accessJkt === null ? {} : { cnf: { jkt: accessJkt } }),
    ...(clientId === undefined ? {} : { clientId }),
  });
  const csrfToken = await createCsrfToken(
    d.csrfKey,
    session.id,
    Math.min(session.absoluteExpiresAt, d.clock.now() + d.policy.refreshIdleSec * 1000),
  );
  return { user, session, accessToken, accessExpiresAt, refreshToken, csrfToken };
}
