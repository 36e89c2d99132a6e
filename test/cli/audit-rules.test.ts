import { describe, expect, it } from 'vitest';
import {
  baseName,
  COOKIE_RULES,
  type CookieRule,
  clearingProblems,
  cookieProblems,
} from '../../src/cli/audit/cookie-rules.js';
import { parseSetCookie } from '../../src/cli/audit/http-probe.js';

/** The audit's cookie rules, one case per way API.md's cookie table can be broken (and its accepted variants). */

const rule = (base: string): CookieRule => {
  const r = COOKIE_RULES[base];
  if (!r) throw new Error(`no rule for ${base}`);
  return r;
};
const problems = (header: string, base: string): string[] => cookieProblems(parseSetCookie(header), rule(base));

describe('audit › cookie rules', () => {
  it('parses a Set-Cookie header: name, value with "=", attributes case-insensitively', () => {
    const c = parseSetCookie('__Host-tw_csrf=a=b; path=/; SECURE; SameSite=Lax; Max-Age=60');
    expect(c.name).toBe('__Host-tw_csrf');
    expect(c.value).toBe('a=b');
    expect([...c.attributes]).toEqual([
      ['path', '/'],
      ['secure', ''],
      ['samesite', 'Lax'],
      ['max-age', '60'],
    ]);
    expect(baseName('__Secure-tw_rt')).toBe('tw_rt');
    expect(baseName('tw_at')).toBe('tw_at');
    expect(baseName('session')).toBeNull();
  });

  it('accepts the default cookies exactly as API.md sets them', () => {
    expect(problems('__Host-tw_at=x; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_at')).toEqual([]);
    expect(
      problems('__Secure-tw_rt=x; Max-Age=1209600; Path=/auth; HttpOnly; Secure; SameSite=Strict', 'tw_rt'),
    ).toEqual([]);
    expect(problems('__Host-tw_csrf=x; Max-Age=1209600; Path=/; Secure; SameSite=Lax', 'tw_csrf')).toEqual([]);
  });

  it('accepts shared-parent-domain mode (__Secure- with Domain) and split mode', () => {
    expect(
      problems('__Secure-tw_at=x; Max-Age=600; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_at'),
    ).toEqual([]);
    expect(
      problems(
        '__Secure-tw_rt=x; Max-Age=600; Domain=example.com; Path=/auth; HttpOnly; Secure; SameSite=Strict',
        'tw_rt',
      ),
    ).toEqual([]);
    expect(problems('__Host-tw_at_hp=x; Max-Age=600; Path=/; Secure; SameSite=Lax', 'tw_at_hp')).toEqual([]);
    expect(problems('__Host-tw_at_sig=x; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_at_sig')).toEqual(
      [],
    );
  });

  it('refuses each broken attribute with a reason', () => {
    expect(problems('__Host-tw_at=x; Max-Age=600; Path=/; Secure; SameSite=Lax', 'tw_at')).toEqual([
      'not HttpOnly (readable by any script on the page)',
    ]);
    expect(problems('__Host-tw_at=x; Max-Age=600; Path=/; HttpOnly; SameSite=Lax', 'tw_at')).toEqual(['not Secure']);
    expect(problems('__Host-tw_at=x; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=None', 'tw_at')).toEqual([
      'SameSite=None, expected Lax',
    ]);
    expect(problems('__Host-tw_at=x; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_at')).toEqual([
      'Max-Age=(missing), expected a positive lifetime',
    ]);
    expect(
      problems('__Host-tw_at=x; Max-Age=600; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_at'),
    ).toEqual(['Domain=example.com on a __Host- cookie']);
    expect(problems('__Secure-tw_at=x; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_at')).toEqual([
      '__Secure- without Domain: expected __Host- (or Domain= in shared-parent-domain mode)',
    ]);
    expect(problems('__Secure-tw_rt=x; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Strict', 'tw_rt')).toEqual([
      'Path=/, expected /auth',
    ]);
    expect(problems('__Host-tw_rt=x; Max-Age=600; Path=/auth; HttpOnly; Secure; SameSite=Strict', 'tw_rt')).toEqual([
      'must be __Secure- (scoped to a path)',
    ]);
    expect(problems('__Host-tw_csrf=x; Path=/; HttpOnly; Secure; SameSite=Lax', 'tw_csrf')).toEqual([
      'HttpOnly, but the app must be able to read it',
    ]);
    expect(problems('tw_at=x; Max-Age=600; Path=/; HttpOnly; SameSite=Lax', 'tw_at')).toEqual([
      'no __Host-/__Secure- prefix (insecure mode?)',
      'not Secure',
    ]);
  });

  it('a deletion must repeat the Path, Domain and Secure of the cookie and expire it', () => {
    const set = parseSetCookie('__Secure-tw_rt=x; Max-Age=600; Path=/auth; HttpOnly; Secure; SameSite=Strict');
    expect(
      clearingProblems(
        set,
        parseSetCookie('__Secure-tw_rt=; Max-Age=0; Path=/auth; HttpOnly; Secure; SameSite=Strict'),
      ),
    ).toEqual([]);
    expect(
      clearingProblems(
        set,
        parseSetCookie('__Secure-tw_rt=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/auth; Secure'),
      ),
    ).toEqual([]);
    expect(clearingProblems(set, parseSetCookie('__Secure-tw_rt=; Max-Age=0; Path=/; Secure'))).toEqual([
      '__Secure-tw_rt cleared with Path=/ (set with /auth)',
    ]);
    expect(clearingProblems(set, parseSetCookie('__Secure-tw_rt=; Max-Age=0; Path=/auth'))).toEqual([
      '__Secure-tw_rt cleared without Secure',
    ]);
    expect(clearingProblems(set, parseSetCookie('__Secure-tw_rt=; Max-Age=10; Path=/auth; Secure'))).toEqual([
      '__Secure-tw_rt cleared without Max-Age=0',
    ]);
    expect(clearingProblems(set, undefined)).toEqual(['__Secure-tw_rt not cleared']);
  });
});
