import { TokenwardError } from '../../errors.js';

/** Password policy from API.md "Limits": 8–256 characters after NFKC, not in the common list. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

/** NFKC-normalises a password (so visually equal inputs hash equally). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_email';

/**
 * Checks a new password. Length counts Unicode code points after NFKC.
 * `common` is the bundled breached/common list (lowercase, NFKC).
 */
export function checkPasswordPolicy(
  password: string,
  common: ReadonlySet<string>,
  email?: string,
): PasswordProblem | null {
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  const lower = normalized.toLowerCase();
  if (common.has(lower)) return 'common';
  if (email && lower === email.toLowerCase()) return 'contains_email';
  return null;
}

/** What a client is told for each policy problem (one wording, signup and password change alike). */
const PROBLEM_DETAIL: Record<PasswordProblem, string> = {
  too_short: 'The password must be at least 8 characters.',
  too_long: 'The password must be at most 256 characters.',
  common: 'This password is too common; it appears in lists of breached passwords.',
  contains_email: 'The password must not be your email address.',
};

/**
 * Refuses a new password that breaks the policy: 422 `weak_password` whose detail says which rule
 * (and NUL characters, which some hashing front ends would cut the password at).
 *
 * @example
 * ```ts
 * assertPasswordPolicy(body.newPassword, commonPasswords, user.email);
 * ```
 */
export function assertPasswordPolicy(password: string, common: ReadonlySet<string>, email?: string): void {
  if (password.includes('\u0000'))
    throw new TokenwardError('weak_password', { detail: 'The password must not contain NUL characters.' });
  const problem = checkPasswordPolicy(password, common, email);
  if (problem !== null) throw new TokenwardError('weak_password', { detail: PROBLEM_DETAIL[problem] });
}
