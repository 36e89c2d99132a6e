import type { Context } from 'hono';
import { ERRORS, type ErrorCode, isTokenwardError, TokenwardError } from '../../errors.js';
import { browserClientId, DEFAULT_NATIVE_CLIENT_ID, isValidClientId } from '../../kernel/tokens/client-id.js';
import type { ServerContext, TokenGrant, TokenwardEnv } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { readBodyText, readJsonObject, stringField } from '../../server/http.js';
import { requestContext } from '../../server/request-context.js';

/** RFC 6749 §5.2 `error` values (and RFC 9449 §5/§8 for DPoP) for the problem codes of this endpoint. */
const OAUTH_ERROR: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'invalid_request',
  unsupported_media_type: 'invalid_request',
  payload_too_large: 'invalid_request',
  invalid_grant: 'invalid_grant',
  unsupported_grant_type: 'unsupported_grant_type',
  invalid_dpop_proof: 'invalid_dpop_proof',
  use_dpop_nonce: 'use_dpop_nonce',
  too_many_attempts: 'temporarily_unavailable',
  // 403 like the browser paths (the grant is valid, the account may not use it), with RFC 6749's code for it.
  account_disabled: 'invalid_grant',
};

/** Failures of the grant itself: all are `invalid_grant` on the wire, the detail says which. */
const GRANT_FAILURES = new Set<ErrorCode>([
  'invalid_credentials',
  'refresh_invalid',
  'refresh_reused',
  'session_expired',
  'mfa_required',
]);
const MFA_DETAIL = 'This account uses two-factor authentication; sign in with the browser flow.';

/** No-store on every answer of the token endpoint (RFC 6749 §5.1), Pragma for HTTP/1.0 caches. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E. */
const NOT_DESCRIPTION_CHARS = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

/**
 * An error of this endpoint as RFC 6749 §5.2 defines it, the one exception to problem+json in
 * API.md: `Content-Type: application/json` (OAuth client libraries such as oauth4webapi refuse
 * anything else, which also broke their RFC 9449 `use_dpop_nonce` retry) with `error` (a
 * registered OAuth code), `error_description`, and `code`, the stable Tokenward code. Extra
 * headers of the error (`DPoP-Nonce`, `Retry-After`) are kept; `no-store` always. Deterministic:
 * two failures of one kind give byte-identical bodies.
 */
function tokenErrorResponse(error: TokenwardError): Response {
  let code = error.code;
  let detail = error.detail;
  if (GRANT_FAILURES.has(code)) {
    detail = code === 'mfa_required' ? MFA_DETAIL : error.detail;
    code = 'invalid_grant';
  }
  const { status } = ERRORS[code];
  const oauthError = OAUTH_ERROR[code] ?? (status >= 500 ? 'server_error' : 'invalid_request');
  const body = { error: oauthError, error_description: detail.replace(NOT_DESCRIPTION_CHARS, ''), code };
  const headers = new Headers({ ...error.headers, ...NO_STORE });
  headers.set('Content-Type', 'application/json');
  return new Response(JSON.stringify(body), { status, headers });
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

/** Reads an `application/x-www-form-urlencoded` body (64 KiB cap); a repeated parameter is 400 (RFC 6749 §3.2). */
async function readForm(c: Context): Promise<Record<string, unknown>> {
  const text = await readBodyText(c.req.raw);
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of new URLSearchParams(text)) {
    // RFC 6749 §3.2: parameters sent without a value are treated as omitted.
    if (value === '') continue;
    if (Object.hasOwn(out, name)) throw new TokenwardError('invalid_request', { detail: `${name} is repeated.` });
    out[name] = value;
  }
  return out;
}

/** `POST {base}/token` body, form-encoded or JSON; anything else is 415. */
async function readTokenRequest(c: Context): Promise<Record<string, unknown>> {
  const contentType = c.req.header('content-type');
  if (contentType !== undefined && FORM_TYPE.test(contentType.trim())) return readForm(c);
  return readJsonObject(c);
}

/**
 * `POST {base}/token` for native and first-party clients (RFC 6749 §4.3 password grant, §6
 * refresh grant; responses §5.1/§5.2). Tokens travel in the body only here, never in cookies.
 * With a `DPoP` header (RFC 9449) the access and refresh tokens are bound to the proof key.
 *
 * No CSRF rule: the endpoint reads no cookie and sets none, so a cross-site request can do
 * nothing its sender could not do directly (and cannot read the answer).
 */
export function tokenEndpoint(ctx: ServerContext, grants: ReadonlyMap<string, TokenGrant>): AnyEndpoint {
  const htu = `${ctx.config.publicOrigin}${ctx.config.basePath}/token`;

  /** The key of the request's DPoP proof, null without one; throws for a bad proof. */
  const proofKey = async (c: Context): Promise<string | null> => {
    const proof = c.req.header('dpop');
    if (proof === undefined) return null;
    if (ctx.dpop === null) throw new TokenwardError('invalid_dpop_proof', { detail: 'DPoP is not available.' });
    const result = await ctx.dpop.verify({ proof, method: c.req.method, url: htu });
    if (result.ok) return result.jkt;
    if (result.reason === 'nonce')
      throw new TokenwardError('use_dpop_nonce', { headers: { 'DPoP-Nonce': await ctx.dpop.nonce() } });
    throw new TokenwardError('invalid_dpop_proof', { detail: `The DPoP proof is invalid (${result.reason}).` });
  };

  /**
   * The client a new session is issued to (RFC 9068 §2.2 `client_id`): the request's `client_id`
   * (RFC 6749 §3.2.1: public clients identify themselves with it), else the fixed native id. The
   * browser client's id is refused, so a native client cannot mint tokens that look like a
   * cookie session's to a resource server that tells them apart.
   */
  const clientIdOf = (body: Record<string, unknown>): string => {
    const clientId = stringField(body, 'client_id', { max: 1024, optional: true });
    if (clientId === undefined) return DEFAULT_NATIVE_CLIENT_ID;
    if (!isValidClientId(clientId))
      throw new TokenwardError('invalid_request', {
        detail: 'client_id must be 1 to 128 printable ASCII characters without spaces.',
      });
    if (clientId === browserClientId(ctx.config.publicOrigin))
      throw new TokenwardError('invalid_request', {
        detail: 'client_id names the browser client; use the native client id.',
      });
    return clientId;
  };

  const answer = async (c: Context<TokenwardEnv>): Promise<Response> => {
    const body = await readTokenRequest(c);
    const grantType = stringField(body, 'grant_type', { max: 64 }) as string;
    const rc = { ...requestContext(ctx, c), clientId: clientIdOf(body) };
    // Grants are a registry (RFC 6749 §4): each feature registers the ones it provides.
    const grant = grants.get(grantType);
    if (grant === undefined) throw new TokenwardError('unsupported_grant_type');
    const parsed = grant.parse(body);
    const jkt = await proofKey(c);
    const issued = await grant.issue(parsed, rc, jkt);
    const tokenType = issued.session.dpopJkt !== null || jkt !== null ? 'DPoP' : 'Bearer';
    const headers: Record<string, string> = { ...NO_STORE };
    if (jkt !== null && ctx.dpop?.requireNonce) headers['DPoP-Nonce'] = await ctx.dpop.nonce();
    return c.json(
      {
        access_token: issued.accessToken,
        token_type: tokenType,
        expires_in: Math.max(0, issued.accessExpiresAt / 1000 - Math.floor(ctx.clock.now() / 1000)),
        refresh_token: issued.refreshToken,
      },
      200,
      headers,
    );
  };

  // No CSRF rule and no authentication guard: the grant is the credential, and every error is RFC 6749 JSON.
  return defineEndpoint({ method: 'POST', path: '/token', guard: 'none', body: 'raw' }, async ({ c }) => {
    try {
      return await answer(c);
    } catch (error) {
      if (isTokenwardError(error)) return tokenErrorResponse(error);
      throw error;
    }
  });
}
