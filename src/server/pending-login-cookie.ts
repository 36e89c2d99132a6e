import type { Context } from 'hono';
import { openPendingLogin, type PendingLogin, sealPendingLogin } from '../kernel/login/pending-login.js';
import type { ServerContext } from './context.js';
import { readCookie } from './cookies.js';

/** A pending login (password right, second factor due) lives 5 minutes. */
export const PENDING_LOGIN_TTL_SEC = 300;

/** Sets the sealed, HttpOnly, SameSite=Strict `tw_mfa` cookie (Path = the auth base path). */
export async function setPendingLoginCookie(
  ctx: ServerContext,
  c: Context,
  userId: string,
  amr: string[],
): Promise<void> {
  const { value } = await sealPendingLogin(ctx.pendingLoginKey, userId, amr, ctx.clock.now(), PENDING_LOGIN_TTL_SEC);
  c.header('Set-Cookie', ctx.cookies.serialize('mfa', value, PENDING_LOGIN_TTL_SEC), { append: true });
}

/** The request's pending login, or null (missing, forged or expired). */
export async function readPendingLogin(ctx: ServerContext, c: Context): Promise<PendingLogin | null> {
  return openPendingLogin(
    ctx.pendingLoginKey,
    readCookie(c.req.header('cookie'), ctx.cookies.name('mfa')),
    ctx.clock.now(),
  );
}

export function clearPendingLoginCookie(ctx: ServerContext, c: Context): void {
  c.header('Set-Cookie', ctx.cookies.clear('mfa'), { append: true });
}
