import type { SetCookie } from './http-probe.js';

/** What API.md requires of one Tokenward cookie (by its base name, without prefix). */
export interface CookieRule {
  httpOnly: boolean;
  sameSite: 'Lax' | 'Strict';
  path: '/' | '/auth';
  /** The `__Secure-` prefix always (the refresh cookie is scoped to /auth, so it cannot be `__Host-`). */
  securePrefixOnly?: boolean;
  /** A `Max-Age` must be set (session cookies die with the browser otherwise, or live too long). */
  maxAge: boolean;
}

/** API.md's cookie table, split mode included. */
export const COOKIE_RULES: Readonly<Record<string, CookieRule>> = {
  tw_at: { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: true },
  // Split mode: header.payload readable by the app, the signature HttpOnly.
  tw_at_hp: { httpOnly: false, sameSite: 'Lax', path: '/', maxAge: true },
  tw_at_sig: { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: true },
  tw_rt: { httpOnly: true, sameSite: 'Strict', path: '/auth', securePrefixOnly: true, maxAge: true },
  tw_csrf: { httpOnly: false, sameSite: 'Lax', path: '/', maxAge: false },
  tw_dev: { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: false },
  tw_su: { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: true },
  tw_oidc: { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: true },
};

/** The cookies that make up a browser session (cleared by logout). */
export const SESSION_COOKIES = ['tw_at', 'tw_at_hp', 'tw_at_sig', 'tw_rt', 'tw_csrf', 'tw_su'] as const;

const PREFIXED = /^(__Host-|__Secure-)(tw_[a-z_]+)$/;

/**
 * The Tokenward base name of a cookie (`__Host-tw_at` → `tw_at`), also for unprefixed (insecure-mode) names.
 *
 * @example
 * ```ts
 * baseName('__Secure-tw_rt'); // 'tw_rt'
 * baseName('sid'); // null
 * ```
 */
export function baseName(name: string): string | null {
  const m = PREFIXED.exec(name);
  if (m) return m[2] ?? null;
  return /^tw_[a-z_]+$/.test(name) ? name : null;
}

/**
 * The ways a set cookie breaks its rule (empty: it follows API.md). `__Host-` cookies must be
 * Secure, Path=/ and carry no Domain; `__Secure-` ones must be Secure and, unless the rule says
 * otherwise (the refresh cookie), are only right in shared-parent-domain mode, with a Domain.
 *
 * @example
 * ```ts
 * cookieProblems(parseSetCookie('__Host-tw_at=x; Path=/; Secure; SameSite=Lax'), COOKIE_RULES.tw_at);
 * // ['not HttpOnly', 'no Max-Age']
 * ```
 */
export function cookieProblems(cookie: SetCookie, rule: CookieRule): string[] {
  const problems: string[] = [];
  const a = cookie.attributes;
  const prefix = PREFIXED.exec(cookie.name)?.[1];
  if (prefix === undefined) problems.push('no __Host-/__Secure- prefix (insecure mode?)');
  if (rule.securePrefixOnly && prefix === '__Host-') problems.push('must be __Secure- (scoped to a path)');
  if (!rule.securePrefixOnly && prefix === '__Secure-' && !a.has('domain'))
    problems.push('__Secure- without Domain: expected __Host- (or Domain= in shared-parent-domain mode)');
  if (prefix === '__Host-' && a.has('domain')) problems.push(`Domain=${a.get('domain')} on a __Host- cookie`);
  if (!a.has('secure')) problems.push('not Secure');
  if (rule.httpOnly && !a.has('httponly')) problems.push('not HttpOnly (readable by any script on the page)');
  if (!rule.httpOnly && a.has('httponly')) problems.push('HttpOnly, but the app must be able to read it');
  const sameSite = a.get('samesite');
  if (sameSite?.toLowerCase() !== rule.sameSite.toLowerCase())
    problems.push(`SameSite=${sameSite ?? '(missing)'}, expected ${rule.sameSite}`);
  const path = a.get('path');
  if (path !== rule.path) problems.push(`Path=${path ?? '(missing)'}, expected ${rule.path}`);
  if (rule.maxAge) {
    const maxAge = Number(a.get('max-age'));
    if (!a.has('max-age') || !Number.isFinite(maxAge) || maxAge <= 0)
      problems.push(`Max-Age=${a.get('max-age') ?? '(missing)'}, expected a positive lifetime`);
  }
  return problems;
}

/**
 * `HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=600` — the attributes as seen.
 *
 * @example
 * ```ts
 * describeAttributes(parseSetCookie('__Host-tw_at=x; Path=/; Secure')); // 'Secure; Path=/'
 * ```
 */
export function describeAttributes(cookie: SetCookie): string {
  const a = cookie.attributes;
  const parts: string[] = [];
  if (a.has('httponly')) parts.push('HttpOnly');
  if (a.has('secure')) parts.push('Secure');
  for (const [key, label] of [
    ['samesite', 'SameSite'],
    ['path', 'Path'],
    ['domain', 'Domain'],
    ['max-age', 'Max-Age'],
  ] as const) {
    if (a.has(key)) parts.push(`${label}=${a.get(key)}`);
  }
  return parts.join('; ');
}

/**
 * The ways a logout's deletion of a cookie fails: browsers ignore a deletion whose name, Path,
 * Domain or Secure differ from the cookie's (API.md, Cookies).
 *
 * @example
 * ```ts
 * clearingProblems(set, parseSetCookie('__Secure-tw_rt=; Max-Age=0; Path=/')); // ['… cleared with Path=/ (set with /auth)']
 * ```
 */
export function clearingProblems(set: SetCookie, cleared: SetCookie | undefined): string[] {
  if (!cleared) return [`${set.name} not cleared`];
  const problems: string[] = [];
  const a = cleared.attributes;
  const expires = a.has('expires') ? Date.parse(a.get('expires') ?? '') : Number.NaN;
  if (a.get('max-age') !== '0' && !(expires <= Date.now())) problems.push(`${set.name} cleared without Max-Age=0`);
  if (a.get('path') !== set.attributes.get('path'))
    problems.push(
      `${set.name} cleared with Path=${a.get('path') ?? '(missing)'} (set with ${set.attributes.get('path')})`,
    );
  if (a.get('domain') !== set.attributes.get('domain')) problems.push(`${set.name} cleared with another Domain`);
  if (a.has('secure') !== set.attributes.has('secure'))
    problems.push(`${set.name} cleared ${a.has('secure') ? 'with' : 'without'} Secure`);
  return problems;
}
