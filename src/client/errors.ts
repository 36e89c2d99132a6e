/**
 * A stable error code from the Tokenward server (API.md), or `unknown` when the response was
 * not problem+json.
 *
 * @example
 * ```ts
 * const code: ClientErrorCode = 'invalid_credentials';
 * ```
 */
export type ClientErrorCode =
  | 'invalid_request'
  | 'email_taken'
  | 'weak_password'
  | 'invalid_credentials'
  | 'too_many_attempts'
  | 'unauthenticated'
  | 'invalid_token'
  | 'not_found'
  | 'step_up_required'
  | 'csrf_rejected'
  | 'unknown'
  | (string & {});

/**
 * Thrown by the SDK helpers (`login`, `me`, `sessions`, …) when the server answers with a
 * non-2xx status. `status` and `code` come from the RFC 9457 problem details body.
 * Network failures are not wrapped: they reject with the browser's own `TypeError`.
 *
 * @example
 * ```ts
 * try {
 *   await client.login({ email, password });
 * } catch (error) {
 *   if (error instanceof TokenwardClientError && error.code === 'too_many_attempts') {
 *     showMessage(`Try again in ${error.retryAfter ?? 1} s`);
 *   }
 * }
 * ```
 */
export class TokenwardClientError extends Error {
  /** HTTP status of the response, e.g. `401`. */
  readonly status: number;
  /** Stable problem code, e.g. `invalid_credentials`. Compare codes, not messages. */
  readonly code: ClientErrorCode;
  /** Seconds from the `Retry-After` header (429 responses), when present. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: ClientErrorCode, message: string, retryAfter?: number) {
    super(message);
    this.name = 'TokenwardClientError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}
