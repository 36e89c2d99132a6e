import type { Context } from 'hono';
import { TokenwardError } from '../../errors.js';
import { checkDoubleSubmit, csrfVerdict, isStateChanging } from '../../kernel/csrf.js';
import type { ServerContext } from '../context.js';
import { readCookie } from '../cookies.js';

export interface CsrfCheckOptions {
  /** Login and signup: the rule applies even without cookies (login CSRF). */
  loginCsrf?: boolean;
  /**
   * Refresh and logout: the answer sets or clears cookies, so a request without cookies that the
   * browser marks as cross-site (Sec-Fetch-Site/Origin) is refused too. A cross-site top-level form
   * POST carries no SameSite cookies, but the browser would still apply the clearing Set-Cookie of
   * its answer (logout CSRF). Cookie-less requests without Fetch Metadata or Origin still pass.
   */
  setsCookies?: boolean;
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
  const verdict = csrfVerdict(
    { secFetchSite: c.req.header('sec-fetch-site') ?? null, origin: c.req.header('origin') ?? null },
    ctx.config,
  );
  // Requests without cookies are not authenticated by cookies: exempt, except login/signup (login
  // CSRF) and, when the browser says cross-site, routes whose answer sets or clears cookies. An
  // Authorization header without cookies is always exempt.
  if (!hasCookies) {
    const applies =
      c.req.header('authorization') === undefined &&
      (options.loginCsrf || (options.setsCookies && verdict === 'reject'));
    if (!applies) return;
  }
  if (verdict === 'pass') return;
  if (verdict === 'double-submit') {
    const headerToken = c.req.header('x-csrf-token') ?? null;
    const cookieToken = readCookie(cookieHeader, ctx.cookies.name('csrf'));
    if (headerToken && cookieToken) {
      for (const binding of await options.bindings()) {
        if (await checkDoubleSubmit(ctx.csrfKey, { headerToken, cookieToken, sessionId: binding }, ctx.clock.now()))
          return;
      }
    }
  }
  ctx.metrics.csrfRejected.inc();
  throw new TokenwardError('csrf_rejected');
}
