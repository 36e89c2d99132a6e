/**
 * Cookie names that may carry the double-submit CSRF token, in order of preference:
 * default mode, shared-parent-domain mode, insecure-HTTP mode (API.md, Cookies).
 */
const CSRF_COOKIE_NAMES = ['__Host-tw_csrf', '__Secure-tw_csrf', 'tw_csrf'];

/**
 * Reads the CSRF token from a `document.cookie` string. The token is not a credential (the
 * server signs it and binds it to the session); it is echoed in `X-CSRF-Token` so old browsers
 * without `Sec-Fetch-Site`/`Origin` still pass the CSRF rule.
 *
 * @example
 * ```ts
 * readCsrfToken('theme=dark; __Host-tw_csrf=abc.def'); // 'abc.def'
 * readCsrfToken('theme=dark'); // undefined
 * ```
 */
export function readCsrfToken(cookies: string): string | undefined {
  const jar = new Map(
    cookies.split(/; */).map((pair): [string, string] => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  for (const name of CSRF_COOKIE_NAMES) {
    const value = jar.get(name);
    if (value) {
      // Cookie serialisers (Hono's among them) percent-encode values; the server compares the
      // header with the decoded cookie.
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}
