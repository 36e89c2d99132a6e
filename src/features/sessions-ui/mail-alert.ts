import type { CryptoKey } from 'jose';
import type { Session, User } from '../../kernel/ports.js';
import { describeUserAgent } from '../../kernel/sessions/device.js';
import type { MailSender, ServerContext } from '../../server/context.js';
import { iso } from '../../server/http.js';
import { signNotMeToken } from './not-me-link.js';

/** A new-device alert is worth sending for a day; after that the person has seen the session in their list. */
const ALERT_TTL_MS = 86_400_000;

/**
 * The new-device alert Tokenward mails itself when the application gave no `onNewDevice` hook:
 * the device, IP and time, and the "this wasn't me" link — `/account/not-me?token=…`, a page of
 * the app that POSTs the token to `POST {basePath}/sessions/not-me` (opening it changes nothing).
 * Queued on a later turn: the login never waits for it.
 */
export function mailNewDeviceAlert(
  ctx: ServerContext,
  mailer: MailSender,
  notMeKey: CryptoKey,
): (user: User, session: Session) => void {
  return (user, session) => {
    const deliver = async (): Promise<void> => {
      const token = await signNotMeToken(notMeKey, session.id, session.absoluteExpiresAt);
      mailer.send({
        template: 'new-device',
        to: user.email,
        variables: {
          link: `${ctx.config.publicOrigin}/account/not-me?token=${token}`,
          email: user.email,
          device: describeUserAgent(session.userAgent).label,
          ip: session.ip,
          time: `${iso(session.createdAt)
            .replace('T', ' ')
            .replace(/\.\d{3}Z$/, '')} UTC`,
        },
        expiresAt: Math.min(session.absoluteExpiresAt, ctx.clock.now() + ALERT_TTL_MS),
        userId: user.id,
      });
    };
    setImmediate(() => {
      deliver().catch((error: unknown) =>
        ctx.logger.error({ err: (error as Error)?.message, userId: user.id }, 'could not queue the new-device mail'),
      );
    });
  };
}
