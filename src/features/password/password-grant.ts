import { TokenwardError } from '../../errors.js';
import type { ServerContext, TokenGrant } from '../../server/context.js';
import { stringField } from '../../server/http.js';
import { passwordLogin } from './password-login.js';

/**
 * RFC 6749 §4.3 `grant_type=password` for legacy first-party apps: the same checks as the browser
 * login. It has no second step, so an account with a second factor fails closed with
 * `mfa_required` (answered as `invalid_grant`).
 */
export function passwordGrant(ctx: ServerContext): TokenGrant {
  return {
    type: 'password',
    parse: (body) => ({
      email: stringField(body, 'username', { max: 320 }) as string,
      password: stringField(body, 'password', { max: 1024, allowControl: true }) as string,
    }),
    issue: async (parsed, rc, jkt) => {
      const outcome = await passwordLogin(
        ctx.kernel,
        ctx.config.limits,
        parsed as { email: string; password: string },
        rc,
        { dpopJkt: jkt },
      );
      if (outcome.kind === 'second_factor') throw new TokenwardError('mfa_required');
      return outcome.issued;
    },
  };
}
