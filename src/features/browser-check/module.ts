import type { Context } from 'hono';
import { TokenwardError } from '../../errors.js';
import type { LoginGate } from '../../kernel/login/factors.js';
import type { RequestContext } from '../../kernel/request-context.js';
import type { TokenwardEnv } from '../../server/context.js';
import { defineEndpoint } from '../../server/define-endpoint.js';
import type { FeatureModule } from '../feature.js';
import { type BrowserVerdict, classifyBrowser, unsupportedReason } from './classify.js';
import type { BrowsersConfig } from './options.js';

/** The verdict for the request being answered (its User-Agent and Fetch Metadata). */
function verdictOf(c: Context<TokenwardEnv>): BrowserVerdict {
  return classifyBrowser({
    userAgent: c.req.header('user-agent') ?? '',
    secFetchSite: c.req.header('sec-fetch-site') ?? null,
  });
}

export const setup: FeatureModule['setup'] = (ctx) => {
  const policy = (ctx.config.browsers as BrowsersConfig).unsupported;

  // Only the three session answers pay for the check (one cached parse per User-Agent).
  ctx.sessionAnswerMembers.push((c) => ({ browser: verdictOf(c) }));

  const refuseUnsupported = async (rc: RequestContext): Promise<void> => {
    // Native clients at /auth/token get tokens in a body, not cookies: cookie handling is moot.
    if (policy !== 'block' || rc.clientId !== undefined) return;
    const reason = unsupportedReason(rc.userAgent);
    if (reason === null) return;
    ctx.logger.info({ reason, ip: rc.ip }, 'login refused: unsupported browser');
    throw new TokenwardError('browser_unsupported');
  };
  const gate: LoginGate = {
    id: 'browser-supported',
    checkRequest: refuseUnsupported,
    check: (_user, _amr, rc) => refuseUnsupported(rc),
  };

  /** `GET /auth/browser`: the verdict for a visitor who is not signed in yet (a banner before the login form). */
  const browser = defineEndpoint({ method: 'GET', path: '/browser', guard: 'none', body: 'none' }, ({ c }) =>
    c.json({ browser: verdictOf(c) }),
  );

  return { endpoints: [browser], loginGates: [gate] };
};
