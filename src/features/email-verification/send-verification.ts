import type { User } from '../../kernel/ports.js';
import type { ServerContext } from '../../server/context.js';
import { issueEmailLink, linkBinding } from '../mail/email-links.js';

/**
 * Mails a verification link to the user's address (`/account/verify-email?token=…`, 24 h, single
 * use). Queued: returns once the link is stored.
 */
export async function sendVerificationLink(ctx: ServerContext, user: User, passwordHash: string): Promise<void> {
  const binding = await linkBinding(user.email, passwordHash);
  const link = await issueEmailLink(ctx, { kind: 'email-verify', userId: user.id, binding });
  ctx.mailer?.send({
    template: 'verify-email',
    to: user.email,
    variables: { link: link.url, email: user.email },
    expiresAt: link.expiresAt,
    userId: user.id,
  });
}
