import type { Context } from 'hono';
import { randomToken } from '../kernel/crypto/encoding.js';
import type { IssuedSession, ServerContext } from './context.js';
import { SESSION_COOKIES } from './cookies.js';
import { iso } from './http.js';

/** Browsers cap cookie lifetimes at 400 days. */
const DEVICE_COOKIE_MAX_AGE = 400 * 86400;

/** Splits a compact JWS into the readable `header.payload` and the HttpOnly signature (split mode). */
export function splitJws(token: string): [string, string] {
  const cut = token.lastIndexOf('.');
  return [token.slice(0, cut), token.slice(cut + 1)];
}

/**
 * Sets the access, refresh and CSRF cookies of an issued session, and — for a session that just
 * started (`origin: 'login'`) in a browser without one — the device cookie with the id the session
 * stores. A refresh never sets it: the session's device id identifies the browser that logged in,
 * and handing it to whoever presents a refresh token without it would let a thief pose as that
 * device (the grace window and new-device detection trust it).
 */
export function setSessionCookies(
  ctx: ServerContext,
  c: Context,
  issued: IssuedSession,
  deviceId: string | null,
  origin: 'login' | 'refresh' = 'login',
): void {
  const now = ctx.clock.now();
  const { cookies, config } = ctx;
  const accessMaxAge = Math.max(1, Math.ceil((issued.accessExpiresAt - now) / 1000));
  const refreshMaxAge = Math.max(
    1,
    Math.ceil((Math.min(issued.session.idleExpiresAt, issued.session.absoluteExpiresAt) - now) / 1000),
  );
  if (config.cookies.split) {
    const [headerPayload, signature] = splitJws(issued.accessToken);
    c.header('Set-Cookie', cookies.serialize('at_hp', headerPayload, accessMaxAge), { append: true });
    c.header('Set-Cookie', cookies.serialize('at_sig', signature, accessMaxAge), { append: true });
  } else {
    c.header('Set-Cookie', cookies.serialize('at', issued.accessToken, accessMaxAge), { append: true });
  }
  c.header('Set-Cookie', cookies.serialize('rt', issued.refreshToken, refreshMaxAge), { append: true });
  c.header('Set-Cookie', cookies.serialize('csrf', issued.csrfToken, refreshMaxAge), { append: true });
  // The device cookie carries the id stored with the session, so the next login from this browser is recognised.
  if (deviceId === null && origin === 'login')
    c.header(
      'Set-Cookie',
      cookies.serialize('dev', issued.session.deviceId ?? randomToken(24), DEVICE_COOKIE_MAX_AGE),
      { append: true },
    );
}

/** Clears every session cookie with the attributes it was set with, plus Clear-Site-Data. */
export function clearSessionCookies(ctx: ServerContext, c: Context): void {
  for (const kind of SESSION_COOKIES) c.header('Set-Cookie', ctx.cookies.clear(kind), { append: true });
  if (ctx.config.clearSiteData) c.header('Clear-Site-Data', ctx.config.clearSiteData);
}

/** Headers to add to a problem Response that must also clear the session cookies. */
export function clearingHeaders(ctx: ServerContext): Headers {
  const h = new Headers();
  for (const kind of SESSION_COOKIES) h.append('Set-Cookie', ctx.cookies.clear(kind));
  if (ctx.config.clearSiteData) h.set('Clear-Site-Data', ctx.config.clearSiteData);
  return h;
}

/** The JSON view of a user (API.md: `{id, email, emailVerified, name, createdAt}`). Never a hash, never a token. */
export function userJson(user: IssuedSession['user']): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    name: user.name,
    createdAt: iso(user.createdAt),
  };
}

/**
 * The JSON view of a session (`expiresAt`: when the refresh chain ends at the latest). A
 * restricted session also says why (`restriction: "mfa_enrollment"`), so a client can take the
 * user to second-factor enrolment instead of a page that will answer 403.
 */
export function sessionJson(
  session: IssuedSession['session'],
  accessExpiresAt: number,
  restriction?: string,
): Record<string, unknown> {
  return {
    id: session.id,
    createdAt: iso(session.createdAt),
    expiresAt: iso(session.absoluteExpiresAt),
    accessExpiresAt: iso(accessExpiresAt),
    ...(restriction === undefined ? {} : { restriction }),
  };
}
