/**
 * The stable error codes of the Tokenward wire contract (API.md), in one place.
 * Clients and tests rely on `code`; titles and details are fixed per code so that two failures
 * of the same kind produce byte-identical problem+json bodies.
 */
export const ERRORS = {
  invalid_request: { status: 400, title: 'Invalid request', detail: 'The request is malformed.' },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    detail: 'This endpoint accepts application/json.',
  },
  payload_too_large: { status: 413, title: 'Payload too large', detail: 'The request body exceeds the size limit.' },
  header_too_large: {
    status: 431,
    title: 'Request header too large',
    detail: 'A request header exceeds the size limit.',
  },
  not_found: { status: 404, title: 'Not found', detail: 'No such resource.' },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    detail: 'This method is not allowed on this resource.',
  },
  csrf_rejected: { status: 403, title: 'Cross-site request rejected', detail: 'The request failed the CSRF checks.' },
  email_taken: { status: 409, title: 'Email taken', detail: 'An account with this email already exists.' },
  weak_password: { status: 422, title: 'Weak password', detail: 'The password is too short, too long, or too common.' },
  invalid_credentials: { status: 401, title: 'Invalid credentials', detail: 'The email or password is incorrect.' },
  too_many_attempts: { status: 429, title: 'Too many attempts', detail: 'Too many attempts; retry later.' },
  refresh_invalid: { status: 401, title: 'Refresh token invalid', detail: 'The refresh token is missing or invalid.' },
  refresh_reused: {
    status: 401,
    title: 'Refresh token reused',
    detail: 'A refresh token was used twice; the session has been revoked.',
  },
  session_expired: { status: 401, title: 'Session expired', detail: 'The session has expired; log in again.' },
  unauthenticated: { status: 401, title: 'Unauthenticated', detail: 'Authentication is required.' },
  invalid_token: { status: 401, title: 'Invalid token', detail: 'The access token is invalid, expired or revoked.' },
  step_up_required: {
    status: 401,
    title: 'Step-up required',
    detail: 'This action needs a fresh authentication.',
  },
  invalid_code: { status: 400, title: 'Invalid code', detail: 'The code is invalid or was already used.' },
  totp_already_enabled: {
    status: 409,
    title: 'TOTP already enabled',
    detail: 'Two-factor authentication is already on; disable it before enrolling again.',
  },
  mfa_required: {
    status: 401,
    title: 'Second factor required',
    detail: 'This account requires a second factor; complete the login at /login/totp.',
  },
  mfa_pending_invalid: {
    status: 401,
    title: 'Pending login invalid',
    detail: 'The pending login is missing, expired or already completed; log in again.',
  },
  invalid_link: { status: 400, title: 'Invalid link', detail: 'The link is invalid, expired or was already used.' },
  invalid_grant: { status: 400, title: 'Invalid grant', detail: 'The grant is invalid, expired or revoked.' },
  unsupported_grant_type: { status: 400, title: 'Unsupported grant type', detail: 'The grant type is not supported.' },
  invalid_dpop_proof: { status: 400, title: 'Invalid DPoP proof', detail: 'The DPoP proof is invalid.' },
  use_dpop_nonce: {
    status: 400,
    title: 'DPoP nonce required',
    detail: 'Retry with the nonce from the DPoP-Nonce header in the proof.',
  },
  invalid_return_to: { status: 400, title: 'Invalid return path', detail: 'returnTo must be a same-origin path.' },
  oidc_state_mismatch: {
    status: 400,
    title: 'OIDC state mismatch',
    detail: 'The login state is missing or does not match.',
  },
  oidc_provider_error: {
    status: 502,
    title: 'Identity provider error',
    detail: 'The identity provider returned an error.',
  },
  browser_unsupported: {
    status: 400,
    title: 'Browser not supported',
    detail:
      'This browser cannot keep a session safe (it ignores SameSite or HttpOnly cookie protections, or is no longer maintained). Sign in with a current version of Chrome, Edge, Firefox or Safari.',
  },
  service_unavailable: {
    status: 503,
    title: 'Service unavailable',
    detail: 'A backing service is unavailable; retry later.',
  },
  email_unverified: {
    status: 403,
    title: 'Email not verified',
    detail: 'Confirm your email address with the link we sent before signing in.',
  },
  account_disabled: {
    status: 403,
    title: 'Account disabled',
    detail: 'This account has been disabled by an administrator.',
  },
  internal_error: { status: 500, title: 'Internal error', detail: 'An unexpected error occurred.' },
  invalid_passkey: {
    status: 400,
    title: 'Invalid passkey',
    detail: 'The passkey could not be verified; start again.',
  },
  mfa_enrollment_required: {
    status: 403,
    title: 'Second factor enrolment required',
    detail: 'This account must set up a second factor (a passkey or an authenticator app) before it can do this.',
  },
  last_second_factor: {
    status: 409,
    title: 'Last second factor',
    detail: 'This is the last second factor of an account that requires one; add another before removing it.',
  },
} as const satisfies Record<string, { status: number; title: string; detail: string }>;

/** A stable error code from the Tokenward contract. */
export type ErrorCode = keyof typeof ERRORS;

/** Base URI of problem `type` values. */
export const ERROR_TYPE_BASE = 'https://tokenward.dev/errors/';

/**
 * The one error class Tokenward throws for expected failures. `code` is stable; `detail`
 * overrides the default text only with request-independent wording.
 *
 * @example
 * ```ts
 * throw new TokenwardError('invalid_credentials');
 * ```
 */
export class TokenwardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`, `Allow`). */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * `status` overrides the code's usual status where API.md gives one code two statuses (a wrong
   * code is 400 `invalid_code` for a signed-in user, 401 at the login's second step).
   */
  constructor(
    code: ErrorCode,
    options: { detail?: string; headers?: Record<string, string>; status?: number; cause?: unknown } = {},
  ) {
    const def = ERRORS[code];
    super(
      `${code}: ${options.detail ?? def.detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'TokenwardError';
    this.code = code;
    this.status = options.status ?? def.status;
    this.detail = options.detail ?? def.detail;
    this.headers = options.headers ?? {};
  }
}

/** The RFC 9457 problem details body for a code. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
}

/** Builds the problem+json body for an error code (deterministic: no per-request values). */
export function problemBody(code: ErrorCode, detail?: string, status?: number): ProblemDetails {
  const def = ERRORS[code];
  return {
    type: `${ERROR_TYPE_BASE}${code}`,
    title: def.title,
    status: status ?? def.status,
    code,
    detail: detail ?? def.detail,
  };
}

/** True when `value` is a {@link TokenwardError}. */
export function isTokenwardError(value: unknown): value is TokenwardError {
  return value instanceof TokenwardError;
}

/** Thrown at start-up for invalid configuration; the message names the option. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
