import type { CryptoKey } from 'jose';
import { z } from 'zod';
import { isTokenwardError, TokenwardError } from '../../errors.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { StepUpMethod } from '../../kernel/login/factors.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { iso } from '../../server/http.js';
import { issueStepUpGrant } from './step-up-grant.js';

/** API.md: a step-up grant is valid at most 5 minutes. */
const MAX_GRANT_TTL_SEC = 300;

/**
 * `POST /auth/step-up` with exactly one proof — `{password}`, `{totp}`, or any other method a
 * feature registered — → `{stepUpUntil}` + the `tw_su` grant cookie. Every kind of wrong proof
 * answers the same 401 `invalid_credentials` (which one was wrong is not told).
 */
export function stepUpEndpoints(ctx: ServerContext, grantKey: CryptoKey): AnyEndpoint[] {
  const stepUp = defineEndpoint(
    // A session restricted to second-factor enrolment needs a step-up to enrol (enrolment is step-up guarded).
    {
      method: 'POST',
      path: '/step-up',
      guard: 'session',
      body: z.record(z.string(), z.unknown()),
      allowRestricted: true,
    },
    async ({ c, body, rc, session }) => {
      const methods = ctx.stepUpMethods;
      const chosen = methods.filter(
        (m) => Object.hasOwn(body, m.field) && body[m.field] !== undefined && body[m.field] !== null,
      );
      const method: StepUpMethod | undefined = chosen[0];
      if (chosen.length !== 1 || method === undefined) {
        const fields = methods.map((m) => m.field);
        throw new TokenwardError('invalid_request', {
          detail: `Send exactly one of ${fields.slice(0, -1).join(', ')}${fields.length > 1 ? ' or ' : ''}${fields.at(-1) ?? ''}.`,
        });
      }
      const proof = method.parse(body[method.field]);
      const user = await ctx.store.findUserById(session.userId);
      if (!user)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      // Per network too: a stolen session (or many) cannot turn one address into a guessing engine.
      await enforceIpLimit(ctx.limiter, 'step_up', rc.ip, ctx.config.limits.loginPerIp, ctx.config.limits);
      const data = { method: method.amr[0] ?? method.field };
      try {
        await method.verify(user, proof, rc, { sessionId: session.sessionId });
      } catch (error) {
        if (!isTokenwardError(error) || error.code === 'too_many_attempts') throw error;
        await ctx.kernel.recordEvent({
          type: 'step_up.failed',
          userId: user.id,
          ip: rc.ip,
          sessionId: session.sessionId,
          userAgent: rc.userAgent,
          data,
        });
        // Wrong password and wrong (or replayed, or absent) TOTP look the same from outside.
        throw new TokenwardError('invalid_credentials', { detail: 'The password or code is incorrect.' });
      }
      const ttl = Math.min(MAX_GRANT_TTL_SEC, ctx.config.stepUpTtlSec);
      const { value, grant } = await issueStepUpGrant(grantKey, session.sessionId, ctx.clock.now(), ttl);
      await ctx.kernel.recordEvent({
        type: 'step_up.success',
        userId: user.id,
        ip: rc.ip,
        sessionId: session.sessionId,
        userAgent: rc.userAgent,
        data,
      });
      c.header('Set-Cookie', ctx.cookies.serialize('su', value, ttl), { append: true });
      return c.json({ stepUpUntil: iso(grant.expiresAt) });
    },
  );
  return [stepUp];
}
