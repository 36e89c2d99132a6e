import type { KernelPolicy } from '../kernel-deps.js';

/**
 * Why a session may not use the application yet, carried by its access tokens as the
 * `tw_restriction` claim. `mfa_enrollment`: `requireMfa` is on and the login proved no second
 * factor, so the session may only enrol one (TOTP or a passkey); every other guarded route
 * answers 403 `mfa_enrollment_required`.
 */
export type SessionRestriction = 'mfa_enrollment';

/**
 * The restriction of a session, derived from its authentication methods at every token issue
 * (login and each refresh), so nothing is stored: a session is full exactly when its `amr` holds
 * `mfa`, which only a verified second factor of the account's own puts there (finish-login.ts).
 * Turning `requireMfa` on restricts existing sessions at their next refresh; turning it off
 * lifts the restriction the same way.
 *
 * @example
 * ```ts
 * sessionRestriction({ requireMfa: true }, ['pwd']); // 'mfa_enrollment'
 * sessionRestriction({ requireMfa: true }, ['pwd', 'otp', 'mfa']); // undefined
 * ```
 */
export function sessionRestriction(
  policy: Pick<KernelPolicy, 'requireMfa'>,
  amr: readonly string[],
): SessionRestriction | undefined {
  return policy.requireMfa && !amr.includes('mfa') ? 'mfa_enrollment' : undefined;
}
