const EMAIL_SHAPE = /^[^\s@"<>()[\],;:\\]+@[^\s@"<>()[\],;:\\]+\.[^\s@"<>()[\],;:\\]+$/;

/**
 * Trims, NFKC-normalises and lowercases an email (API.md: stored lowercase, compared
 * case-insensitively); null when it is not a plausible address.
 *
 * @example
 * ```ts
 * normalizeEmail('  Ada@Example.COM '); // 'ada@example.com'
 * ```
 */
export function normalizeEmail(value: string): string | null {
  const email = value.normalize('NFKC').trim().toLowerCase();
  if (email.length < 3 || email.length > 254 || !EMAIL_SHAPE.test(email)) return null;
  return email;
}
