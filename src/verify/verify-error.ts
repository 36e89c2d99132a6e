import type { AccessTokenFailure } from '../kernel/tokens/access-token.js';

/**
 * Stable codes of {@link VerifyError}:
 * - `invalid_token`: the token itself is bad (`reason` says why); answer 401 `invalid_token`.
 * - `revoked`: a valid token of a session the issuer has revoked; answer 401 `invalid_token`.
 * - `restricted`: a valid token of a session that must enrol a second factor first (the issuer's
 *   `requireMfa`); answer 403 `mfa_enrollment_required`.
 * - `jwks_unavailable`: the issuer's keys could not be loaded; answer 503, not 401.
 * - `revocation_unavailable`: revocation checking is on and the list is stale; answer 503.
 * - `closed`: `verify()` after `close()`.
 */
export type VerifyErrorCode =
  | 'invalid_token'
  | 'revoked'
  | 'restricted'
  | 'jwks_unavailable'
  | 'revocation_unavailable'
  | 'closed';

/**
 * Why verification failed. For `invalid_token` it is the rule the token broke (the
 * {@link AccessTokenFailure} of `verifyAccessToken`, or `dpop_bound`: a sender-constrained token
 * presented to a verifier that does not check DPoP proofs). For the other codes it names what
 * went wrong with the issuer's endpoints.
 */
export type VerifyErrorReason =
  | AccessTokenFailure
  | 'dpop_bound'
  | 'restricted'
  | 'session_revoked'
  | 'fetch_failed'
  | 'timeout'
  | 'http_status'
  | 'invalid_response'
  | 'no_usable_keys'
  | 'stale'
  | 'closed';

/**
 * The one error `tokenward/verify` throws. Branch on `code` (stable), log `reason`. Neither the
 * message nor any property ever contains the token or the revocation credential.
 *
 * @example
 * ```ts
 * try {
 *   const claims = await verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof VerifyError && (error.code === 'invalid_token' || error.code === 'revoked')) {
 *     return new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
 *   }
 *   throw error; // jwks_unavailable, revocation_unavailable: answer 503
 * }
 * ```
 */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  readonly reason: VerifyErrorReason;

  constructor(code: VerifyErrorCode, reason: VerifyErrorReason, options: { cause?: unknown } = {}) {
    super(`${code}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerifyError';
    this.code = code;
    this.reason = reason;
  }
}

/**
 * True when `value` is a {@link VerifyError} (also across duplicated copies of the package).
 *
 * @example
 * ```ts
 * if (isVerifyError(error) && error.code === 'revoked') logout();
 * ```
 */
export function isVerifyError(value: unknown): value is VerifyError {
  return (
    value instanceof VerifyError ||
    (value instanceof Error && value.name === 'VerifyError' && 'code' in value && 'reason' in value)
  );
}
