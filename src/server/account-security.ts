import type { CryptoKey } from 'jose';
import type { Logger } from 'pino';
import type { TokenwardConfig } from '../config.js';
import { signNotMeToken } from '../features/sessions-ui/not-me-link.js';
import { TotpManager } from '../features/totp/totp-manager.js';
import { deriveHmacKey, deriveSealKey } from '../kernel/crypto/seal.js';
import type { Clock, Limiter, Session, Store, User } from '../kernel/ports.js';
import { type DeviceDescription, describeUserAgent } from '../kernel/sessions/device.js';
import { SessionActivity } from '../kernel/sessions/session-activity.js';
import { iso } from './http.js';

/** What the `onNewDevice` hook receives: enough to send "was this you?" without writing auth code. */
export interface NewDeviceAlert {
  user: { id: string; email: string; name: string | null };
  session: { id: string; createdAt: string; ip: string; device: DeviceDescription };
  /**
   * A signed link that, opened and confirmed, revokes this session and records an event
   * (`{basePath}/sessions/not-me?token=…`). It works once and only while the session can live.
   */
  notMeUrl: string;
}

/** Called for each session from a new device; it may be async; it never delays the login and its errors are logged. */
export type NewDeviceHook = (alert: NewDeviceAlert) => void | Promise<void>;

/** Keys and helpers of sessions, step-up, TOTP and password features (one per instance). */
export interface AccountSecurity {
  /** AES-GCM key of the `tw_su` step-up grant cookie. */
  grantKey: CryptoKey;
  /** AES-GCM key of the `tw_mfa` pending-login cookie. */
  pendingLoginKey: CryptoKey;
  /** HMAC key of "this wasn't me" links. */
  notMeKey: CryptoKey;
  totp: TotpManager;
  activity: SessionActivity;
  /** Builds the alert and calls the hook without awaiting it. */
  alertNewDevice: (user: User, session: Session) => void;
  /** The "this wasn't me" URL of a session. */
  notMeUrl: (session: Session) => Promise<string>;
}

export async function createAccountSecurity(options: {
  secret: string;
  config: TokenwardConfig;
  store: Store;
  limiter: Limiter;
  clock: Clock;
  logger: Logger;
  onNewDevice: NewDeviceHook | undefined;
}): Promise<AccountSecurity> {
  const { secret, config, store, limiter, clock, logger, onNewDevice } = options;
  const [grantKey, pendingLoginKey, totpSealKey, notMeKey, recoveryKey] = await Promise.all([
    deriveSealKey(secret, 'step-up-grant'),
    deriveSealKey(secret, 'pending-login'),
    deriveSealKey(secret, 'totp-secret'),
    deriveHmacKey(secret, 'not-me-link'),
    deriveHmacKey(secret, 'recovery-codes'),
  ]);
  const totp = new TotpManager({
    store,
    limiter,
    clock,
    sealKey: totpSealKey,
    recoveryKey,
    issuer: config.publicHost,
    backoff: { freeFailures: config.limits.loginPerAccount, baseSec: 1, maxSec: config.limits.loginBackoffMaxSec },
  });
  const notMeUrl = async (session: Session): Promise<string> => {
    const token = await signNotMeToken(notMeKey, session.id, session.absoluteExpiresAt);
    return `${config.publicOrigin}${config.basePath}/sessions/not-me?token=${token}`;
  };
  const alertNewDevice = (user: User, session: Session): void => {
    if (!onNewDevice) return;
    const deliver = async (): Promise<void> => {
      const alert: NewDeviceAlert = {
        user: { id: user.id, email: user.email, name: user.name },
        session: {
          id: session.id,
          createdAt: iso(session.createdAt),
          ip: session.ip,
          device: describeUserAgent(session.userAgent),
        },
        notMeUrl: await notMeUrl(session),
      };
      await onNewDevice(alert);
    };
    // Deferred to a later turn: a slow or throwing hook never touches the login response.
    setImmediate(() => {
      deliver().catch((error: unknown) =>
        logger.error(
          { err: (error as Error)?.message, userId: user.id, sessionId: session.id },
          'onNewDevice hook failed',
        ),
      );
    });
  };
  return {
    grantKey,
    pendingLoginKey,
    notMeKey,
    totp,
    activity: new SessionActivity({ store, clock, logger }),
    alertNewDevice,
    notMeUrl,
  };
}
