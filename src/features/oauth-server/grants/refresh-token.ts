import type { ServerContext, TokenGrant } from '../../../server/context.js';
import { stringField } from '../../../server/http.js';

/** RFC 6749 §6: `grant_type=refresh_token` — rotation with reuse detection, DPoP-bound when proven. */
export function refreshTokenGrant(ctx: ServerContext): TokenGrant {
  return {
    type: 'refresh_token',
    parse: (body) => stringField(body, 'refresh_token', { max: 256 }) as string,
    issue: (refreshToken, rc, jkt) => ctx.kernel.refresh(refreshToken as string, rc, { dpopJkt: jkt }),
  };
}
