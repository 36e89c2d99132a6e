import type { Context } from 'hono';
import type { CryptoKey } from 'jose';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, SessionInfo, StepUpClaim, StepUpGuard, TokenwardEnv } from '../../server/context.js';
import { readCookie } from '../../server/cookies.js';
import { consumeStepUpGrant, openStepUpGrant, releaseStepUpGrant } from './step-up-grant.js';

/** The RFC 9470 challenge of API.md ("Protected routes"). */
function stepUpRequired(maxAgeSec: number): TokenwardError {
  return new TokenwardError('step_up_required', {
    headers: {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="A fresh step-up authentication is required", max_age=${maxAgeSec}`,
    },
  });
}

/**
 * Step-up grants from the `tw_su` cookie: opened with the feature's key, checked against the
 * session and `max_age`, and claimed atomically in the shared limiter (Redis when configured);
 * the claim is released again when the guarded request does not succeed.
 */
export function createStepUpGuard(ctx: ServerContext, grantKey: CryptoKey): StepUpGuard {
  return {
    async claim(c: Context<TokenwardEnv>, info: SessionInfo, maxAgeSec: number): Promise<StepUpClaim> {
      const value = readCookie(c.req.header('cookie'), ctx.cookies.name('su'));
      const grant = value === null ? null : await openStepUpGrant(grantKey, value);
      const verdict = await consumeStepUpGrant(ctx.limiter, grant, {
        sessionId: info.sessionId,
        now: ctx.clock.now(),
        maxAgeSec,
      });
      if (verdict !== 'ok' || grant === null) throw stepUpRequired(maxAgeSec);
      let settled = false;
      return {
        clearCookie: ctx.cookies.clear('su'),
        settle: async (succeeded) => {
          if (settled) return;
          settled = true;
          if (!succeeded) await releaseStepUpGrant(ctx.limiter, grant);
        },
      };
    },
  };
}
