import type { Hono } from 'hono';
import { TokenwardError } from '../../errors.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { defineRoute } from '../../server/define-route.js';
import { readJsonObject, stringField } from '../../server/http.js';
import { requestContext } from '../../server/request-context.js';
import { signedIn } from '../step-up/require-step-up.js';
import { confirmPassword } from './confirm-password.js';
import { checkPasswordPolicy, normalizePassword, type PasswordProblem } from './password-policy.js';

const PROBLEM_DETAIL: Record<PasswordProblem, string> = {
  too_short: 'The password must be at least 8 characters.',
  too_long: 'The password must be at most 256 characters.',
  common: 'This password is too common; it appears in lists of breached passwords.',
  contains_email: 'The password must not be your email address.',
};

/**
 * `POST /auth/password {currentPassword, newPassword}` → `{revoked: n}`: checks the current
 * password (login backoff), the policy, re-hashes, and signs out every other session.
 */
export function passwordRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  defineRoute(app, `${ctx.config.basePath}/password`, {
    POST: async (c) => {
      const info = await signedIn(ctx, c);
      const body = await readJsonObject(c);
      const currentPassword = stringField(body, 'currentPassword', { max: 1024, allowControl: true }) as string;
      const newPassword = stringField(body, 'newPassword', { max: 1024, allowControl: true }) as string;
      const user = await ctx.store.findUserById(info.userId);
      if (!user)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      // Policy first: a weak new password costs no password attempt and changes nothing.
      if (newPassword.includes('\u0000'))
        throw new TokenwardError('weak_password', { detail: 'The password must not contain NUL characters.' });
      const problem = checkPasswordPolicy(newPassword, ctx.service.deps.commonPasswords, user.email);
      if (problem !== null) throw new TokenwardError('weak_password', { detail: PROBLEM_DETAIL[problem] });
      const rc = requestContext(ctx, c);
      await enforceIpLimit(ctx.limiter, 'password', rc.ip, ctx.config.limits.loginPerIp, ctx.config.limits);
      try {
        await confirmPassword(
          { store: ctx.store, hasher: ctx.service.deps.hasher, limiter: ctx.limiter, limits: ctx.config.limits },
          user,
          currentPassword,
        );
      } catch (error) {
        if (error instanceof TokenwardError && error.code === 'invalid_credentials') {
          await ctx.service.recordEvent({
            type: 'password.change_failed',
            userId: user.id,
            ip: rc.ip,
            sessionId: info.sessionId,
            userAgent: rc.userAgent,
          });
        }
        throw error;
      }
      await ctx.store.setPasswordHash(user.id, await ctx.service.deps.hasher.hash(normalizePassword(newPassword)));
      const revoked = await ctx.service.revokeUserSessions(user.id, 'password_change', rc, info.sessionId);
      await ctx.service.recordEvent({
        type: 'password.changed',
        userId: user.id,
        ip: rc.ip,
        sessionId: info.sessionId,
        userAgent: rc.userAgent,
      });
      return c.json({ revoked: revoked.length });
    },
  });
}
