import type { Context, MiddlewareHandler } from 'hono';
import { TokenwardError } from '../../errors.js';
import { isStateChanging } from '../../kernel/csrf.js';
import type { AccessTokenClaims } from '../../kernel/tokens/access-token.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from '../context.js';
import { readCookie } from '../cookies.js';
import { enforceCsrf } from './csrf.js';

/** Longest Authorization/cookie token we look at; longer ones are rejected without parsing. */
const MAX_TOKEN_CHARS = 8192;

export interface PresentedToken {
  token: string;
  via: 'cookie' | 'bearer' | 'dpop';
}

/**
 * What authentication reads from a request. A Hono request (`c.req`) is one; the framework
 * adapters pass a view of a Node request, so a guard does not build a Web `Request` per call.
 */
export interface AuthRequest {
  readonly method: string;
  /** A header by lower-case name, as `Headers.get` combines repeated ones; undefined when absent. */
  header(name: string): string | undefined;
  /** The full request URL (read only for a DPoP proof's `htu`). */
  readonly url: string;
  /** The request's identity: a DPoP proof verified for it is not checked (and consumed) again. */
  readonly raw: object;
}

/**
 * Web requests an adapter built for a request it already identifies otherwise (the Node
 * `IncomingMessage`), so a guard on the Web request and one on the adapter's view share one
 * DPoP proof check.
 */
const requestIdentities = new WeakMap<object, object>();

/** Declares that `request` (a Web request an adapter built) is the request identified by `identity`. */
export function bindRequestIdentity(request: object, identity: object): void {
  requestIdentities.set(request, identity);
}

/** The access token of a request: `Authorization: Bearer|DPoP`, else the cookie(s) (split mode stitched). */
export function presentedAccessToken(ctx: ServerContext, c: Context): PresentedToken | null {
  return presentedToken(ctx, c.req);
}

function presentedToken(ctx: ServerContext, req: Pick<AuthRequest, 'header'>): PresentedToken | null {
  const authorization = req.header('authorization');
  if (authorization !== undefined) {
    const match = /^(Bearer|DPoP) +([^\s]+) *$/i.exec(authorization.slice(0, MAX_TOKEN_CHARS + 16));
    const via = (match?.[1] ?? authorization.slice(0, 5)).toLowerCase() === 'dpop' ? 'dpop' : 'bearer';
    return { token: match?.[2] ?? '', via };
  }
  const cookieHeader = req.header('cookie');
  if (!cookieHeader) return null;
  ctx.metrics.observeCookieHeader(cookieHeader.length);
  if (ctx.config.cookies.split) {
    const hp = readCookie(cookieHeader, ctx.cookies.name('at_hp'));
    const sig = readCookie(cookieHeader, ctx.cookies.name('at_sig'));
    if (hp === null && sig === null) return null;
    return { token: `${hp ?? ''}.${sig ?? ''}`, via: 'cookie' };
  }
  const token = readCookie(cookieHeader, ctx.cookies.name('at'));
  return token === null ? null : { token, via: 'cookie' };
}

function realm(ctx: ServerContext): string {
  return `Bearer realm="${new URL(ctx.config.publicOrigin).host}"`;
}

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  /**
   * Accept a restricted session (an access token with `tw_restriction`: with `requireMfa`, a
   * login that proved no second factor). Only the routes that serve the restriction set it
   * (second-factor enrolment, step-up, `/me`, logout); everything else answers 403.
   */
  allowRestricted?: boolean;
}

/**
 * Authenticates a request. Throws 401 `unauthenticated` (no token) or `invalid_token`
 * (bad, expired or revoked) with the RFC 6750 `WWW-Authenticate` header, and 403
 * `mfa_enrollment_required` for a restricted session unless `allowRestricted`.
 *
 * @example
 * ```ts
 * app.get('/api/me', async (c) => c.json({ userId: (await authenticateRequest(tw.context, c)).userId }));
 * ```
 */
export function authenticateRequest(
  ctx: ServerContext,
  c: Context,
  options: AuthenticateOptions = {},
): Promise<SessionInfo> {
  return authenticate(ctx, c.req, options);
}

/**
 * The refusal of a restricted session on a route that does not serve its restriction. A 403
 * (RFC 9110 §15.5.4): the token is valid, the session may just not do this yet.
 */
export function restrictedSessionError(restriction: string): TokenwardError {
  return new TokenwardError(restriction === 'mfa_enrollment' ? 'mfa_enrollment_required' : 'invalid_token');
}

/** {@link authenticateRequest} on any {@link AuthRequest} (the adapters' guards). */
export async function authenticate(
  ctx: ServerContext,
  req: AuthRequest,
  options: AuthenticateOptions = {},
): Promise<SessionInfo> {
  const presented = presentedToken(ctx, req);
  if (presented === null) throw new TokenwardError('unauthenticated', { headers: { 'WWW-Authenticate': realm(ctx) } });
  const claims = presented.token.length > MAX_TOKEN_CHARS ? null : await ctx.kernel.authenticate(presented.token);
  if (claims === null) {
    ctx.metrics.rejectedTokens.inc();
    throw new TokenwardError('invalid_token', {
      headers: {
        'WWW-Authenticate': `${realm(ctx)}, error="invalid_token", error_description="The access token is invalid, expired or revoked"`,
      },
    });
  }
  // RFC 9449 §7: a bound token only with the DPoP scheme and a valid proof (no downgrade to
  // Bearer or cookie); the DPoP scheme only with a bound token.
  if (presented.via === 'dpop' || claims.cnf !== undefined) await checkDpopProof(ctx, req, presented, claims);
  if (claims.tw_restriction !== undefined && !options.allowRestricted)
    throw restrictedSessionError(claims.tw_restriction);
  // Throttled last_active_at (≤ 1 write per session per minute, fire-and-forget).
  ctx.activity.touch(claims.sid);
  return { userId: claims.sub, sessionId: claims.sid, claims, via: presented.via };
}

/** Requests whose proof already passed (a route may authenticate twice; a proof is single-use). */
const verifiedProofs = new WeakMap<object, string>();

function dpopChallenge(
  ctx: ServerContext,
  error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce',
  description: string,
): string {
  return `DPoP realm="${new URL(ctx.config.publicOrigin).host}", algs="${(ctx.dpop?.algorithms ?? []).join(' ')}", error="${error}", error_description="${description}"`;
}

/** Verifies the `DPoP` proof of a resource request against the token's `cnf.jkt` (RFC 9449 §7.1). */
async function checkDpopProof(
  ctx: ServerContext,
  req: AuthRequest,
  presented: PresentedToken,
  claims: AccessTokenClaims,
): Promise<void> {
  const reject = (
    error: 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce',
    description: string,
    extra: Record<string, string> = {},
  ): never => {
    ctx.metrics.rejectedTokens.inc();
    throw new TokenwardError('invalid_token', {
      headers: { 'WWW-Authenticate': dpopChallenge(ctx, error, description), ...extra },
    });
  };
  const jkt = claims.cnf?.jkt;
  if (jkt === undefined) reject('invalid_token', 'The access token is not DPoP-bound; use the Bearer scheme');
  if (presented.via !== 'dpop')
    reject('invalid_token', 'The access token is DPoP-bound; use the DPoP scheme with a proof');
  const proof = req.header('dpop') ?? null;
  const identity = requestIdentities.get(req.raw) ?? req.raw;
  if (proof !== null && verifiedProofs.get(identity) === proof) return;
  // Without the dpop feature no proof can be verified: a bound token is refused, never accepted unbound.
  const dpop = ctx.dpop;
  if (dpop === null) return reject('invalid_token', 'DPoP-bound tokens are not accepted here');
  const result = await dpop.verify({
    proof,
    method: req.method,
    // htu is the URI the client addressed: the public origin (not the Host header) + the path.
    url: `${ctx.config.publicOrigin}${new URL(req.url).pathname}`,
    accessToken: presented.token,
    expectedJkt: jkt as string,
  });
  if (result.ok) {
    verifiedProofs.set(identity, proof as string);
    return;
  }
  if (result.reason === 'nonce')
    reject('use_dpop_nonce', 'Resend the request with the server nonce in the DPoP proof', {
      'DPoP-Nonce': await dpop.nonce(),
    });
  reject('invalid_dpop_proof', `The DPoP proof is invalid (${result.reason})`);
}

export interface RequireSessionOptions {
  /** Apply the CSRF rule to state-changing requests authenticated by cookie (default true). */
  csrf?: boolean;
}

/**
 * Hono middleware guarding an application route: a valid, unrevoked access token (cookie or
 * `Authorization: Bearer`) of a full session (a session restricted to second-factor enrolment
 * gets 403 `mfa_enrollment_required`), and the CSRF rule for state-changing cookie requests.
 * The session is available as `c.get('tokenward')`.
 *
 * @example
 * ```ts
 * app.get('/api/profile', tw.requireSession(), (c) => c.json({ userId: c.get('tokenward').userId }));
 * ```
 */
export function requireSession(
  ctx: ServerContext,
  options: RequireSessionOptions = {},
): MiddlewareHandler<TokenwardEnv> {
  const csrf = options.csrf ?? true;
  const full: MiddlewareHandler<TokenwardEnv> = async (c, next) => {
    const info = await authenticate(ctx, c.req);
    // The CSRF rule only concerns state-changing methods (the adapters' guards rely on the same split).
    if (csrf && isStateChanging(c.req.method)) await enforceCsrf(ctx, c, { bindings: () => [info.sessionId] });
    c.set('tokenward', info);
    await next();
  };
  return (c, next) => {
    // Fast path: a safe method with a token this node already verified (and whose session is
    // not revoked) is decided without a promise of its own. Everything else — no token, a token
    // to verify, a refusal, DPoP, the CSRF rule — takes the full path.
    if (!(csrf && isStateChanging(c.req.method))) {
      const info = authenticateCached(ctx, nodeHeaders(c) ?? c.req);
      if (info !== undefined) {
        c.set('tokenward', info);
        return next();
      }
    }
    return full(c, next);
  };
}

/**
 * On `@hono/node-server`, reading any header of `c.req` first builds a Web `Headers` from the
 * Node request (≈ 1.4 µs, a third of the guard's cost on a cache hit). While nobody has built
 * it, the Node request's raw headers are exactly the request's headers, so the fast path reads
 * them directly (combined as `Headers.get` combines repeated ones). Another runtime, a
 * `Request` the app built itself, or headers already read (and so possibly changed) use `c.req`.
 */
export function nodeHeaders(c: Context): Pick<AuthRequest, 'header'> | undefined {
  const incoming = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming;
  if (incoming === undefined || !Array.isArray(incoming.rawHeaders)) return undefined;
  if (!isUntouchedNodeRequest(c.req.raw, incoming)) return undefined;
  const rawHeaders = incoming.rawHeaders as string[];
  return {
    header(wanted: string): string | undefined {
      const name = wanted.toLowerCase();
      let value: string | undefined;
      for (let i = 0; i < rawHeaders.length; i += 2) {
        const key = rawHeaders[i] as string;
        if (key.length !== name.length || key.toLowerCase() !== name) continue;
        const v = rawHeaders[i + 1] as string;
        value = value === undefined ? v : `${value}${name === 'cookie' ? '; ' : ', '}${v}`;
      }
      return value;
    },
  };
}

/**
 * The symbols `@hono/node-server` keys its lightweight Request with, learnt from the first
 * request seen (null: not that server, or a version that keeps them elsewhere).
 */
let nodeRequestKeys: { incoming: symbol; headers: symbol[] } | null | undefined;

function isUntouchedNodeRequest(raw: Request, incoming: object): boolean {
  const r = raw as unknown as Record<symbol, unknown>;
  if (nodeRequestKeys === undefined) {
    const own = Object.getOwnPropertySymbols(r);
    const incomingKey = own.find((k) => k.description === 'incomingKey' && r[k] === incoming);
    // Reading `headers` builds and caches them under their own symbols: learn those too.
    void raw.headers;
    const added = Object.getOwnPropertySymbols(r).filter((k) => !own.includes(k));
    nodeRequestKeys = incomingKey !== undefined && added.length > 0 ? { incoming: incomingKey, headers: added } : null;
    return false;
  }
  if (nodeRequestKeys === null || r[nodeRequestKeys.incoming] !== incoming) return false;
  for (const key of nodeRequestKeys.headers) if (r[key] !== undefined) return false;
  return true;
}

/**
 * {@link authenticate} when the answer is a cached, unrevoked, unbound, unrestricted token; else
 * undefined (the full path decides, and refuses a restricted session).
 */
export function authenticateCached(ctx: ServerContext, req: Pick<AuthRequest, 'header'>): SessionInfo | undefined {
  const presented = presentedToken(ctx, req);
  if (presented === null || presented.via === 'dpop' || presented.token.length > MAX_TOKEN_CHARS) return undefined;
  const claims = ctx.kernel.authenticateCached(presented.token);
  if (claims === null || claims === undefined || claims.cnf !== undefined || claims.tw_restriction !== undefined)
    return undefined;
  ctx.activity.touch(claims.sid);
  return { userId: claims.sub, sessionId: claims.sid, claims, via: presented.via };
}
