import { TokenwardError } from '../../errors.js';
import type { LoginOutcome } from '../../kernel/login/finish-login.js';
import type { RequestContext } from '../../kernel/request-context.js';
import type { ServerContext } from '../../server/context.js';
import {
  EMAIL_LINK_AMR,
  EMAIL_LINK_KINDS,
  findEmailLink,
  limitLinkAttempts,
  redeemEmailLink,
} from '../mail/email-links.js';
import { assertPasswordPolicy, normalizePassword } from '../password/password-policy.js';

/**
 * Sets a new password with a reset link (API.md `POST /auth/password/reset`): the link is read
 * first and the policy checked against it (a weak password answers 422 and keeps the link), then
 * the link is used (exactly one of concurrent uses wins), the password set, every session of the
 * account revoked, every other link of the account deleted, the address marked proven (the link
 * reached it), `password.reset` recorded, and the login pipeline runs for this device — so an
 * account with TOTP still needs its second factor, and a disabled account is refused.
 */
export async function resetPassword(
  ctx: ServerContext,
  commonPasswords: ReadonlySet<string>,
  input: { token: string; password: string },
  rc: RequestContext,
): Promise<LoginOutcome> {
  await limitLinkAttempts(ctx, rc);
  const peek = await findEmailLink(ctx, ['password-reset'], input.token);
  if (peek === null) throw new TokenwardError('invalid_link');
  assertPasswordPolicy(input.password, commonPasswords, peek.user.email);
  const link = await redeemEmailLink(ctx, ['password-reset'], input.token);
  if (link === null) throw new TokenwardError('invalid_link');
  const { user } = link;
  if (user.disabledAt != null) throw new TokenwardError('account_disabled');
  await ctx.store.setPasswordHash(user.id, await ctx.kernel.hasher.hash(normalizePassword(input.password)));
  // Whoever held a session (or a link) before no longer does: the reset may be the owner taking the account back.
  await ctx.kernel.revokeUserSessions(user.id, 'password_reset', rc);
  await ctx.artifacts.deleteForUser(user.id, EMAIL_LINK_KINDS);
  let proven = user;
  if (
    !user.emailVerified &&
    (await ctx.store.updateUser(user.id, { emailVerified: true }, { expectedEmail: user.email })) === 'ok'
  ) {
    proven = { ...user, emailVerified: true };
    await ctx.kernel.recordEvent({
      type: 'email.verified',
      userId: user.id,
      ip: rc.ip,
      sessionId: null,
      userAgent: rc.userAgent,
    });
  }
  await ctx.kernel.recordEvent({
    type: 'password.reset',
    userId: user.id,
    ip: rc.ip,
    sessionId: null,
    userAgent: rc.userAgent,
  });
  return ctx.kernel.finishLogin(proven, [...EMAIL_LINK_AMR], rc);
}
