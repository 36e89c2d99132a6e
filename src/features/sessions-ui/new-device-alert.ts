import type { CryptoKey } from 'jose';
import type { Session, User } from '../../kernel/ports.js';
import { describeUserAgent } from '../../kernel/sessions/device.js';
import type { NewDeviceAlert, NewDeviceHook } from '../../kernel/sessions/new-device-alert.js';
import type { ServerContext } from '../../server/context.js';
import { iso } from '../../server/http.js';
import { signNotMeToken } from './not-me-link.js';

/** The "this wasn't me" URL of a session: signed, single use, valid while the session can live. */
export async function notMeUrl(ctx: ServerContext, notMeKey: CryptoKey, session: Session): Promise<string> {
  const token = await signNotMeToken(notMeKey, session.id, session.absoluteExpiresAt);
  return `${ctx.config.publicOrigin}${ctx.config.basePath}/sessions/not-me?token=${token}`;
}

/**
 * Builds the new-device alert (with its "this wasn't me" link) and hands it to the app's hook on a
 * later turn: a slow or throwing hook never touches the login response; its errors are logged.
 */
export function newDeviceAlerter(
  ctx: ServerContext,
  notMeKey: CryptoKey,
  hook: NewDeviceHook,
): (user: User, session: Session) => void {
  return (user, session) => {
    const deliver = async (): Promise<void> => {
      const alert: NewDeviceAlert = {
        user: { id: user.id, email: user.email, name: user.name },
        session: {
          id: session.id,
          createdAt: iso(session.createdAt),
          ip: session.ip,
          device: describeUserAgent(session.userAgent),
        },
        notMeUrl: await notMeUrl(ctx, notMeKey, session),
      };
      await hook(alert);
    };
    setImmediate(() => {
      deliver().catch((error: unknown) =>
        ctx.logger.error(
          { err: (error as Error)?.message, userId: user.id, sessionId: session.id },
          'onNewDevice hook failed',
        ),
      );
    });
  };
}
