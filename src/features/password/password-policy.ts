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
