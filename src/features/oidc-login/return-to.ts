/** Longest `returnTo` accepted (it travels in the sealed `tw_oidc` cookie). */
export const MAX_RETURN_TO_LENGTH = 1024;

/** Printable ASCII except space and backslash: anything else must arrive percent-encoded. */
const SAFE_PATH = /^[\x21-\x5b\x5d-\x7e]+$/;

/**
 * Validates the `returnTo` of an OIDC login: only a same-origin path (`/…`) is accepted, so the
 * login cannot be turned into an open redirect. Returns the absolute URL on `publicOrigin` to
 * redirect to after the login, or null.
 *
 * Refused: absolute and scheme-relative URLs (`https://evil`, `//evil`), `/\evil` and any other
 * backslash (browsers read `\` as `/`), control characters, spaces and raw non-ASCII (the URL
 * parser strips tabs and newlines, so `/\t/evil` would become `//evil`), and values over
 * {@link MAX_RETURN_TO_LENGTH} characters. The result is absolute, so a path that normalises to
 * `//host` (`/..//evil`) still stays on this origin.
 *
 * @example
 * ```ts
 * parseReturnTo('/settings?tab=security', 'https://app.example.com'); // 'https://app.example.com/settings?tab=security'
 * parseReturnTo('//evil.example', 'https://app.example.com'); // null
 * ```
 */
export function parseReturnTo(value: string, publicOrigin: string): string | null {
  if (value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return null;
  if (value[0] !== '/' || value[1] === '/' || !SAFE_PATH.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, publicOrigin);
  } catch {
    return null;
  }
  if (url.origin !== publicOrigin) return null;
  return url.href;
}

/**
 * Adds one query parameter to a validated return URL (e.g. `error=oidc_account_exists`).
 *
 * @example
 * ```ts
 * withQuery('https://app.example.com/login', 'error', 'oidc_account_exists'); // 'https://app.example.com/login?error=oidc_account_exists'
 * ```
 */
export function withQuery(returnTo: string, name: string, value: string): string {
  const url = new URL(returnTo);
  url.searchParams.set(name, value);
  return url.href;
}
