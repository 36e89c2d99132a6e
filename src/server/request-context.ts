import type { Context } from 'hono';
import { canonicalIp } from '../kernel/limits/ip-network.js';
import type { RequestContext } from '../kernel/request-context.js';
import type { ServerContext, TokenwardEnv } from './context.js';
import { readCookie } from './cookies.js';

const DEVICE_ID_SHAPE = /^[A-Za-z0-9_-]{22,64}$/;

/**
 * The client address: the socket peer, or — with `trustProxy: n` — the n-th address from the
 * right of `X-Forwarded-For` (addresses further left are client-controlled).
 */
export function clientIp(ctx: ServerContext, c: Context<TokenwardEnv>): string {
  const socketIp = c.env?.ip ?? c.env?.incoming?.socket?.remoteAddress ?? 'unknown';
  const hops = ctx.config.trustProxy;
  if (hops === 0) return normalizeIp(socketIp);
  const forwarded = c.req.header('x-forwarded-for');
  if (!forwarded) return normalizeIp(socketIp);
  const list = forwarded
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const pick = list[Math.max(0, list.length - hops)];
  return normalizeIp(pick && pick.length <= 64 ? pick : socketIp);
}

/** One spelling per address (IPv4-mapped IPv6 folded to IPv4): what sessions and events show. */
function normalizeIp(ip: string): string {
  return canonicalIp(ip);
}

/** Device id from the device cookie, when well-formed. */
export function deviceIdOf(ctx: ServerContext, c: Context): string | null {
  const value = readCookie(c.req.header('cookie'), ctx.cookies.name('dev'));
  return value && DEVICE_ID_SHAPE.test(value) ? value : null;
}

export function requestContext(ctx: ServerContext, c: Context<TokenwardEnv>): RequestContext {
  return {
    ip: clientIp(ctx, c),
    userAgent: (c.req.header('user-agent') ?? '').slice(0, 512),
    deviceId: deviceIdOf(ctx, c),
  };
}
