import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import { normalizeEmail } from '../../kernel/users/normalize-email.js';
import { text } from '../../server/body-schema.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { optionalSession } from '../../server/middleware/signed-in.js';
import { userJson } from '../../server/session-cookies.js';
import {
  EMAIL_LINK_KINDS,
  type EmailLink,
  findEmailLink,
  issueEmailLink,
  limitLinkAttempts,
  linkBinding,
  redeemEmailLink,
} from '../mail/email-links.js';
import { maskEmail } from '../mail/templates.js';
import { sendVerificationLink } from './send-verification.js';

/** Link tokens are 43 characters; a little room so a wrong length is `invalid_link`, not `invalid_request`. */
const tokenBody = z.object({ token: text({ max: 512 }) });

function tooManyMails(retryAfterSec: number): TokenwardError {
  return new TokenwardError('too_many_attempts', { headers: { 'Retry-After': String(retryAfterSec) } });
}

/** The signed-in user (401 when the account is gone). */
async function currentUser(ctx: ServerContext, userId: string) {
  const user = await ctx.store.findUserById(userId);
  if (!user)
    throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  return user;
}

/**
 * `POST /auth/email/verify/request`, `POST /auth/email/verify` (a verification or an email-change
 * link), `POST /auth/email/change` (step-up).
 */
export function emailEndpoints(ctx: ServerContext): AnyEndpoint[] {
  const request = defineEndpoint(
    { method: 'POST', path: '/email/verify/request', guard: 'session', body: 'none' },
    async ({ c, rc, session }) => {
      const user = await currentUser(ctx, session.userId);
      // Already proven: nothing to send (the answer is the same; the client refreshes `user`).
      if (user.emailVerified) return c.json({}, 202);
      const admitted = await ctx.mailer?.admit('verify-email', user.email, rc.ip);
      if (!admitted?.allowed) throw tooManyMails(admitted?.retryAfterSec ?? 60);
      const credentials = await ctx.store.getCredentials(user.id);
      if (!credentials) throw new TokenwardError('invalid_token');
      await sendVerificationLink(ctx, user, credentials.passwordHash);
      return c.json({}, 202);
    },
  );

  const confirm = defineEndpoint(
    { method: 'POST', path: '/email/verify', guard: 'anonymous', body: tokenBody },
    async ({ c, body, rc }) => {
      await limitLinkAttempts(ctx, rc);
      const kinds = ['email-verify', 'email-change'] as const;
      // Checked before the link is used, so a refusal costs nothing: a browser signed in as another
      // account never confirms this one's address (it would be a confusing, and phishable, click).
      const peek = await findEmailLink(ctx, kinds, body.token);
      if (peek === null) throw new TokenwardError('invalid_link');
      const signedIn = await optionalSession(ctx, c);
      if (signedIn !== null && signedIn.userId !== peek.user.id) throw new TokenwardError('invalid_link');
      const newEmail = peek.artifact.kind === 'email-change' ? String(peek.artifact.data?.newEmail ?? '') : null;
      // A taken address answers 409 without using the link (it may be freed and tried again).
      if (newEmail !== null && (await ctx.store.findUserByEmail(newEmail)) !== null)
        throw new TokenwardError('email_taken');
      const link = await redeemEmailLink(ctx, [peek.artifact.kind], body.token);
      if (link === null) throw new TokenwardError('invalid_link');
      return link.artifact.kind === 'email-change' ? confirmChange(link) : confirmAddress(link);

      async function confirmAddress(l: EmailLink): Promise<Response> {
        if (!l.user.emailVerified) {
          // Only the address the link was mailed to (a change in between makes the link unbound anyway).
          const result = await ctx.store.updateUser(
            l.user.id,
            { emailVerified: true },
            { expectedEmail: l.user.email },
          );
          if (result !== 'ok') throw new TokenwardError('invalid_link');
          await ctx.kernel.recordEvent({
            type: 'email.verified',
            userId: l.user.id,
            ip: rc.ip,
            sessionId: signedIn?.sessionId ?? null,
            userAgent: rc.userAgent,
          });
        }
        return c.json({ user: userJson({ ...l.user, emailVerified: true }) });
      }

      async function confirmChange(l: EmailLink): Promise<Response> {
        const next = normalizeEmail(String(l.artifact.data?.newEmail ?? ''));
        if (next === null) throw new TokenwardError('invalid_link');
        const result = await ctx.store.updateUser(
          l.user.id,
          { email: next, emailVerified: true },
          { expectedEmail: l.user.email },
        );
        if (result === 'email_taken') throw new TokenwardError('email_taken');
        if (result !== 'ok') throw new TokenwardError('invalid_link');
        // Every other link was issued for the old address: they die with it (their binding changed too).
        await ctx.artifacts.deleteForUser(l.user.id, EMAIL_LINK_KINDS);
        await ctx.kernel.recordEvent({
          type: 'email.changed',
          userId: l.user.id,
          ip: rc.ip,
          sessionId: signedIn?.sessionId ?? null,
          userAgent: rc.userAgent,
        });
        // Sessions stay: the person who asked for the change proved the password (step-up) and the new address.
        return c.json({ user: userJson({ ...l.user, email: next, emailVerified: true }) });
      }
    },
  );

  const change = defineEndpoint(
    { method: 'POST', path: '/email/change', guard: 'step-up', body: z.object({ email: text({ max: 320 }) }) },
    async ({ c, body, rc, session }) => {
      const user = await currentUser(ctx, session.userId);
      const next = normalizeEmail(body.email);
      if (next === null)
        throw new TokenwardError('invalid_request', { detail: 'email must be a valid email address.' });
      if (next === user.email)
        throw new TokenwardError('invalid_request', { detail: 'email is already the address of this account.' });
      // Only a signed-in user who just proved the password learns that an address is taken.
      if ((await ctx.store.findUserByEmail(next)) !== null) throw new TokenwardError('email_taken');
      const admitted = await ctx.mailer?.admit('confirm-email-change', next, rc.ip);
      if (!admitted?.allowed) throw tooManyMails(admitted?.retryAfterSec ?? 60);
      const credentials = await ctx.store.getCredentials(user.id);
      if (!credentials) throw new TokenwardError('invalid_token');
      const link = await issueEmailLink(ctx, {
        kind: 'email-change',
        userId: user.id,
        binding: await linkBinding(user.email, credentials.passwordHash),
        data: { newEmail: next },
      });
      ctx.mailer?.send({
        template: 'confirm-email-change',
        to: next,
        variables: { link: link.url, email: next, oldEmail: user.email },
        expiresAt: link.expiresAt,
        userId: user.id,
      });
      // The old address hears of it, without a link: if it was not them, a password change cancels it.
      ctx.mailer?.send({
        template: 'email-change-notice',
        to: user.email,
        variables: { email: user.email, newEmailMasked: maskEmail(next) },
        expiresAt: link.expiresAt,
        userId: user.id,
      });
      await ctx.kernel.recordEvent({
        type: 'email.change_requested',
        userId: user.id,
        ip: rc.ip,
        sessionId: session.sessionId,
        userAgent: rc.userAgent,
      });
      return c.json({}, 202);
    },
  );

  return [request, confirm, change];
}
