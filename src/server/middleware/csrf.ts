import type { Context } from 'hono';
import { checkDoubleSubmit, csrfVerdict, isStateChanging } from '../../core/csrf.js';
import { TokenwardError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { readCookie } from '../cookies.js';

export interface CsrfCheckOptions {
  /** Login and signup: the rule applies even without cookies (login CSRF). */
  loginCsrf?: boolean;
  /** Session ids the double-submit token may be bound to (lazily resolved; null = anonymous). */
  bindings: () => Promise<Array<string | null>> | Array<string | null>;
}

/**
 * The CSRF rule of API.md: Fetch Metadata → Origin → signed double-submit. Throws 403
 * `csrf_rejected`; returns normally when the request passes or the rule does not apply.
 */
export async function enforceCsrf(ctx: ServerContext, c: Context, options: CsrfCheckOptions): Promise<void> {
  const method = c.req.method;
  if (!isStateChanging(method)) return;
  const cookieHeader = c.req.header('cookie');
  const hasCookies = cookieHeader !== undefined && cookieHeader.trim() !== '';
  // Requests without cookies are not authenticated by cookies; only login/signup still need the rule,
  // and an Authorization header without cookies is exempt.
  if (!hasCookies && (!options.loginCsrf || c.req.header('authorization') !== undefined)) return;
  const verdict = csrfVerdict({ secFetchSite: c.req.header('sec-fetch-site') ?? null, origin: c.req.header('origin') ?? null }, ctx.config);
  if (verdict === 'pass') return;
  if (verdict === 'double-submit') {
    const headerToken = c.req.header('x-csrf-token') ?? null;
    const cookieToken = readCookie(cookieHeader, ctx.cookies.name('csrf'));
    if (headerToken && cookieToken) {
      for (const binding of await options.bindings()) {
        if (await checkDoubleSubmit(ctx.csrfKey, { headerToken, cookieToken, sessionId: binding }, ctx.clock.now())) return;
      }
    }
  }
  ctx.metrics.csrfRejected.inc();
  throw new TokenwardError('csrf_rejected');
}
