import type { KernelConfig } from '../kernel/config/kernel-config.js';

/** The logical cookies of API.md "Cookies". */
export type CookieKind = 'at' | 'at_hp' | 'at_sig' | 'rt' | 'csrf' | 'dev' | 'su' | 'oidc' | 'mfa' | 'wa';

interface CookieSpec {
  name: string;
  path: string;
  httpOnly: boolean;
  sameSite: 'Lax' | 'Strict';
}

/** Cookies cleared on logout and on every revocation of the current session. */
export const SESSION_COOKIES: readonly CookieKind[] = ['at', 'at_hp', 'at_sig', 'rt', 'csrf', 'su'];

const BASE: Record<
  CookieKind,
  { httpOnly: boolean; sameSite: 'Lax' | 'Strict'; refreshPath?: true; hostOnly?: false }
> = {
  at: { httpOnly: true, sameSite: 'Lax' },
  at_hp: { httpOnly: false, sameSite: 'Lax' },
  at_sig: { httpOnly: true, sameSite: 'Lax' },
  // The refresh cookie is only ever sent to the auth endpoints, and never cross-site.
  rt: { httpOnly: true, sameSite: 'Strict', refreshPath: true, hostOnly: false },
  // Readable by JS on purpose: it is the double-submit value, not a credential.
  csrf: { httpOnly: false, sameSite: 'Lax' },
  dev: { httpOnly: true, sameSite: 'Lax' },
  su: { httpOnly: true, sameSite: 'Strict' },
  oidc: { httpOnly: true, sameSite: 'Lax' },
  mfa: { httpOnly: true, sameSite: 'Strict', refreshPath: true, hostOnly: false },
  // Binds a passkey sign-in challenge to the browser that asked for it (passkeys feature).
  wa: { httpOnly: true, sameSite: 'Strict', refreshPath: true, hostOnly: false },
};

/**
 * Names and attributes of every cookie for the configured mode: `__Host-` (default),
 * `__Secure-` with `Domain` (shared parent domain), or unprefixed without `Secure` (insecure HTTP).
 */
export class CookieJar {
  readonly specs: Record<CookieKind, CookieSpec>;
  readonly #secure: boolean;
  readonly #domain: string | undefined;

  constructor(config: Pick<KernelConfig, 'secureCookies' | 'cookies' | 'basePath'>) {
    this.#secure = config.secureCookies;
    this.#domain = config.cookies.domain;
    const specs = {} as Record<CookieKind, CookieSpec>;
    for (const [kind, base] of Object.entries(BASE) as Array<[CookieKind, (typeof BASE)[CookieKind]]>) {
      let prefix = '';
      if (this.#secure) prefix = base.hostOnly === false || this.#domain ? '__Secure-' : '__Host-';
      specs[kind] = {
        name: `${prefix}tw_${kind}`,
        path: base.refreshPath ? config.basePath : '/',
        httpOnly: base.httpOnly,
        sameSite: base.sameSite,
      };
    }
    this.specs = specs;
  }

  name(kind: CookieKind): string {
    return this.specs[kind].name;
  }

  /** A `Set-Cookie` value. `maxAgeSec` 0 deletes (with the same name, Path, Domain and Secure as when set). */
  serialize(kind: CookieKind, value: string, maxAgeSec: number): string {
    const spec = this.specs[kind];
    let out = `${spec.name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeSec))}; Path=${spec.path}`;
    // The device cookie stays host-only even in parent-domain mode? No: it follows the mode like the others.
    if (this.#domain) out += `; Domain=${this.#domain}`;
    if (this.#secure) out += '; Secure';
    if (spec.httpOnly) out += '; HttpOnly';
    out += `; SameSite=${spec.sameSite}`;
    return out;
  }

  clear(kind: CookieKind): string {
    return this.serialize(kind, '', 0);
  }
}

/** Reads one cookie from a `Cookie` header without parsing the others. */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      const value = header.slice(eq + 1, end).trim();
      return value === '' ? null : value;
    }
    start = end + 1;
  }
  return null;
}
