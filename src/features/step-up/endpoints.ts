import type { Hono } from 'hono';
import { isTokenwardError, TokenwardError } from '../../errors.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { defineRoute } from '../../server/define-route.js';
import { iso, readJsonObject, stringField } from '../../server/http.js';
import { requestContext } from '../../server/request-context.js';
import { confirmPassword } from '../password/confirm-password.js';
import { signedIn } from './require-step-up.js';
import { issueStepUpGrant } from './step-up-grant.js';

/** API.md: a step-up grant is valid at most 5 minutes. */
const MAX_GRANT_TTL_SEC = 300;

/** `POST /auth/step-up` `{password}` or `{totp}` → `{stepUpUntil}` + the `tw_su` grant cookie. */
export function stepUpRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  defineRoute(app, `${ctx.config.basePath}/step-up`, {
    POST: async (c) => {
      const info = await signedIn(ctx, c);
      const body = await readJsonObject(c);
      const password = stringField(body, 'password', { max: 1024, allowControl: true, optional: true });
      const totp = stringField(body, 'totp', { max: 16, optional: true });
      if ((password === undefined) === (totp === undefined))
        throw new TokenwardError('invalid_request', { detail: 'Send exactly one of password or totp.' });
      const user = await ctx.store.findUserById(info.userId);
      if (!user)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      const rc = requestContext(ctx, c);
      // Per network too: a stolen session (or many) cannot turn one address into a guessing engine.
      await enforceIpLimit(ctx.limiter, 'step_up', rc.ip, ctx.config.limits.loginPerIp, ctx.config.limits);
      try {
        if (password !== undefined) {
          await confirmPassword(
            { store: ctx.store, hasher: ctx.service.deps.hasher, limiter: ctx.limiter, limits: ctx.config.limits },
            user,
            password,
          );
        } else {
          await ctx.security.totp.verify(user.id, { code: totp ?? '' });
        }
      } catch (error) {
        if (!isTokenwardError(error) || error.code === 'too_many_attempts') throw error;
        await ctx.service.recordEvent({
          type: 'step_up.failed',
          userId: user.id,
          ip: rc.ip,
          sessionId: info.sessionId,
          userAgent: rc.userAgent,
          data: { method: password !== undefined ? 'pwd' : 'otp' },
        });
        // Wrong password and wrong (or replayed, or absent) TOTP look the same from outside.
        throw new TokenwardError('invalid_credentials', { detail: 'The password or code is incorrect.' });
      }
      const ttl = Math.min(MAX_GRANT_TTL_SEC, ctx.config.stepUpTtlSec);
      const { value, grant } = await issueStepUpGrant(ctx.security.grantKey, info.sessionId, ctx.clock.now(), ttl);
      await ctx.service.recordEvent({
        type: 'step_up.success',
        userId: user.id,
        ip: rc.ip,
        sessionId: info.sessionId,
        userAgent: rc.userAgent,
        data: { method: password !== undefined ? 'pwd' : 'otp' },
      });
      c.header('Set-Cookie', ctx.cookies.serialize('su', value, ttl), { append: true });
      return c.json({ stepUpUntil: iso(grant.expiresAt) });
    },
  });
}
