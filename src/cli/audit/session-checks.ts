import { randomBytes } from 'node:crypto';
import type { AuditReport } from './audit-report.js';
import {
  baseName,
  COOKIE_RULES,
  clearingProblems,
  cookieProblems,
  describeAttributes,
  SESSION_COOKIES,
} from './cookie-rules.js';
import { checkSecurityHeaders } from './deployment-checks.js';
import type { HttpProbe, ProbeResponse, SetCookie } from './http-probe.js';

/** How the audit gets a session. */
export type SessionSource = { kind: 'signup' } | { kind: 'login'; email: string; password: string };

/** Longest a revoked access token may keep working (API.md: 1 s, plus the audit's round trips). */
const REVOCATION_DEADLINE_MS = 1500;
/** API.md: the cookies of a session must fit comfortably in every request. */
const COOKIE_BUDGET_BYTES = 1024;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+/;

/** The cookies a browser would hold, by name (a deletion removes one). */
class BrowserCookies {
  readonly #cookies = new Map<string, SetCookie>();

  update(setCookies: SetCookie[]): void {
    for (const c of setCookies) {
      const expires = c.attributes.has('expires') ? Date.parse(c.attributes.get('expires') ?? '') : Number.NaN;
      if (c.attributes.get('max-age') === '0' || expires <= Date.now() || c.value === '') this.#cookies.delete(c.name);
      else this.#cookies.set(c.name, c);
    }
  }

  /** The held cookie with this Tokenward base name (`tw_rt`), whatever its prefix. */
  get(base: string): SetCookie | undefined {
    for (const c of this.#cookies.values()) if (baseName(c.name) === base) return c;
    return undefined;
  }

  /** The `Cookie` header a browser sends to `path` (cookies whose Path is a prefix of it). */
  header(path: string, replace: Record<string, string> = {}): string {
    const parts: string[] = [];
    for (const c of this.#cookies.values()) {
      const p = c.attributes.get('path') ?? '/';
      if (path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))
        parts.push(`${c.name}=${replace[c.name] ?? c.value}`);
    }
    return parts.join('; ');
  }
}

/** base64url without padding. */
function b64url(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64url');
}

/**
 * The black-box session checks of `tokenward audit`: signup (or login), the cookies and body of
 * the session, the CSRF rule, forged access tokens, refresh rotation and the grace replay,
 * logout and revocation. Each check reports one line; a failure that leaves no session ends
 * the remaining checks with a FAIL saying why.
 *
 * @example
 * ```ts
 * const created = await new SessionChecks(probe, report, 'https://app.example.com').run({ kind: 'signup' });
 * ```
 */
export class SessionChecks {
  readonly #probe: HttpProbe;
  readonly #report: AuditReport;
  readonly #origin: string;
  readonly #jar = new BrowserCookies();
  #account: { email: string; password: string } | null = null;

  constructor(probe: HttpProbe, report: AuditReport, origin: string) {
    this.#probe = probe;
    this.#report = report;
    this.#origin = origin;
  }

  /** What a legitimate page of the app sends with a state-changing request (CSRF rule 1 or 2). */
  #pageHeaders(): Record<string, string> {
    return {
      origin: this.#origin,
      ...(this.#origin === this.#probe.base.origin ? { 'sec-fetch-site': 'same-origin' } : {}),
    };
  }

  #post(
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; cookies?: string } = {},
  ): Promise<ProbeResponse> {
    const cookie = options.cookies ?? this.#jar.header(path);
    return this.#probe.send({
      method: 'POST',
      path,
      headers: {
        ...(options.headers ?? this.#pageHeaders()),
        ...(cookie === '' ? {} : { cookie }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  }

  /** Runs every session check; returns the email of an account it created, if any. */
  async run(source: SessionSource): Promise<string | null> {
    const started = await this.#start(source);
    if (!started) return null;
    const created = source.kind === 'signup' ? (this.#account?.email ?? null) : null;
    if (!(await this.#checkMe())) return created;
    await this.#checkCrossSiteRefused();
    await this.#checkForgedTokens();
    await this.#checkRefresh();
    await this.#checkLogout();
    return created;
  }

  async #start(source: SessionSource): Promise<boolean> {
    let res: ProbeResponse;
    let label: string;
    if (source.kind === 'signup') {
      // A throwaway account on a reserved domain (RFC 2606) with a strong random password.
      this.#account = {
        email: `tokenward-audit-${randomBytes(6).toString('hex')}@example.com`,
        password: randomBytes(24).toString('base64url'),
      };
      label = 'POST /auth/signup';
      res = await this.#post('/auth/signup', { body: this.#account, cookies: '' });
      if (res.status !== 201) return this.#cannotStart(label, res, 201);
    } else {
      this.#account = { email: source.email, password: source.password };
      label = 'POST /auth/login';
      res = await this.#post('/auth/login', { body: this.#account, cookies: '' });
      if (res.status !== 200) return this.#cannotStart(label, res, 200);
    }
    this.#report.pass(label, `${res.status}, session started for ${this.#account.email}`);
    checkSecurityHeaders(this.#report, label, res, { auth: true });
    this.#jar.update(res.setCookies);
    this.#checkCookies(res);
    this.#checkBody(label, res);
    this.#checkCookieBudget();
    return this.#jar.get('tw_rt') !== undefined && this.#accessToken() !== null;
  }

  #cannotStart(label: string, res: ProbeResponse, expected: number): false {
    const code = (res.json as { code?: string } | undefined)?.code;
    const why = res.status === 429 ? 'rate limited: run the audit again later' : `expected ${expected}`;
    this.#report.fail(label, `${res.status}${code ? ` ${code}` : ''} (${why}); the session checks did not run`);
    return false;
  }

  /** Names and attributes of every cookie set at login, per API.md's table. */
  #checkCookies(res: ProbeResponse): void {
    const seen = new Set<string>();
    for (const c of res.setCookies) {
      const base = baseName(c.name);
      const rule = base === null ? undefined : COOKIE_RULES[base];
      if (base === null || rule === undefined) {
        if (c.attributes.get('max-age') !== '0')
          this.#report.warn(`cookie ${c.name}`, `not a Tokenward cookie (${describeAttributes(c)})`);
        continue;
      }
      seen.add(base);
      this.#report.expect(`cookie ${c.name}`, cookieProblems(c, rule), describeAttributes(c));
    }
    if (!seen.has('tw_at') && !(seen.has('tw_at_hp') && seen.has('tw_at_sig')))
      this.#report.fail(
        'cookie __Host-tw_at',
        'no access-token cookie (tw_at, or tw_at_hp + tw_at_sig in split mode) was set',
      );
    if (!seen.has('tw_rt')) this.#report.fail('cookie __Secure-tw_rt', 'no refresh-token cookie was set');
    if (!seen.has('tw_csrf')) this.#report.fail('cookie __Host-tw_csrf', 'no CSRF cookie was set');
  }

  /** No token, refresh token, CSRF value or password hash in a JSON body of the browser paths. */
  #checkBody(label: string, res: ProbeResponse): void {
    const problems: string[] = [];
    for (const c of res.setCookies)
      if (c.value.length >= 16 && res.text.includes(c.value)) problems.push(`the value of ${c.name} is in the body`);
    if (JWT_SHAPE.test(res.text)) problems.push('a JWT is in the body');
    if (res.text.includes('twr_')) problems.push('a refresh token (twr_…) is in the body');
    if (/\$argon2|\$2[aby]\$/.test(res.text)) problems.push('a password hash is in the body');
    const keys = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) {
          keys.add(k);
          walk(child);
        }
      }
    };
    walk(res.json);
    const forbidden = [
      'access_token',
      'refresh_token',
      'accessToken',
      'refreshToken',
      'token',
      'password',
      'passwordHash',
      'password_hash',
      'csrfToken',
    ].filter((k) => keys.has(k));
    if (forbidden.length > 0) problems.push(`body has ${forbidden.join(', ')}`);
    this.#report.expect(`${label} body`, problems, 'no token, CSRF value or password hash in the JSON body');
  }

  #checkCookieBudget(): void {
    const header = this.#jar.header('/auth/refresh');
    const size = Buffer.byteLength(header);
    if (size <= COOKIE_BUDGET_BYTES)
      this.#report.pass(
        'cookie size',
        `${size} bytes of Cookie header with every session cookie (≤ ${COOKIE_BUDGET_BYTES})`,
      );
    else
      this.#report.fail(
        'cookie size',
        `${size} bytes of Cookie header (> ${COOKIE_BUDGET_BYTES}): big cookies slow every request and hit proxy limits`,
      );
  }

  /** The access token as the server stitches it (split mode: header.payload + signature). */
  #accessToken(): string | null {
    const whole = this.#jar.get('tw_at');
    if (whole) return whole.value;
    const hp = this.#jar.get('tw_at_hp');
    const sig = this.#jar.get('tw_at_sig');
    return hp && sig ? `${hp.value}.${sig.value}` : null;
  }

  /** `GET /auth/me` with only this access token, in the access cookie(s) (the browser transport). */
  async #meWith(token: string): Promise<number> {
    const [h = '', p = '', s = ''] = token.split('.');
    const whole = this.#jar.get('tw_at');
    const hp = this.#jar.get('tw_at_hp');
    const sig = this.#jar.get('tw_at_sig');
    const cookie = whole ? `${whole.name}=${token}` : hp && sig ? `${hp.name}=${h}.${p}; ${sig.name}=${s}` : '';
    const res = await this.#probe.send({ path: '/auth/me', headers: { cookie } });
    return res.status;
  }

  async #checkMe(): Promise<boolean> {
    const res = await this.#probe.send({ path: '/auth/me', headers: { cookie: this.#jar.header('/auth/me') } });
    const user = (res.json as { user?: { email?: string } } | undefined)?.user;
    if (res.status === 200 && user?.email === this.#account?.email) {
      this.#report.pass('GET /auth/me', `200 with the session cookies (${user?.email})`);
      checkSecurityHeaders(this.#report, 'GET /auth/me', res, { auth: true });
      return true;
    }
    this.#report.fail(
      'GET /auth/me',
      `${res.status} with the session cookies (expected 200 and the user); the remaining session checks did not run`,
    );
    return false;
  }

  /** Logs in again with the audit's account after a check destroyed the session. */
  async #restart(): Promise<boolean> {
    if (!this.#account) return false;
    const res = await this.#post('/auth/login', { body: this.#account, cookies: '' });
    this.#jar.update(res.setCookies);
    return res.status === 200;
  }

  /** CSRF rule: a cross-site POST carrying the session cookies is refused with 403, nothing changed. */
  async #checkCrossSiteRefused(): Promise<void> {
    const res = await this.#post('/auth/logout-all', {
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    const code = (res.json as { code?: string } | undefined)?.code;
    if (res.status === 403) {
      this.#report.pass(
        'CSRF cross-site POST',
        `POST /auth/logout-all from https://evil.example (Sec-Fetch-Site: cross-site) → 403 ${code ?? ''}`.trim(),
      );
      return;
    }
    this.#report.fail(
      'CSRF cross-site POST',
      `POST /auth/logout-all from https://evil.example (Sec-Fetch-Site: cross-site) → ${res.status}, expected 403 csrf_rejected`,
    );
    if (res.status < 300) await this.#restart();
  }

  /** `alg: none` and a signature with one flipped bit are refused (401) where the real token passes. */
  async #checkForgedTokens(): Promise<void> {
    const token = this.#accessToken();
    if (token === null) return;
    const [header = '', payload = '', signature = ''] = token.split('.');
    let kid: unknown;
    try {
      kid = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: unknown }).kid;
    } catch {
      this.#report.fail('JWT alg none', 'the access cookie is not a JWS (API.md: a JWT)');
      return;
    }
    const noneHeader = b64url(JSON.stringify({ alg: 'none', typ: 'at+jwt', ...(kid === undefined ? {} : { kid }) }));
    const none = [
      await this.#meWith(`${noneHeader}.${payload}.`),
      await this.#meWith(`${noneHeader}.${payload}.${signature}`),
    ];
    this.#report.expect(
      'JWT alg none',
      none.some((s) => s !== 401) ? [`GET /auth/me with an alg "none" token → ${none.join(', ')}, expected 401`] : [],
      'an alg "none" token (empty or original signature) → 401',
    );
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    const flipped = await this.#meWith(`${header}.${payload}.${b64url(bytes)}`);
    this.#report.expect(
      'JWT flipped signature',
      flipped === 401 ? [] : [`GET /auth/me with one signature bit flipped → ${flipped}, expected 401`],
      'one signature bit flipped → 401',
    );
  }

  /** Refresh rotates both tokens; replaying the old refresh token at once (grace window) gives the same successor. */
  async #checkRefresh(): Promise<void> {
    const oldRefresh = this.#jar.get('tw_rt')?.value;
    const oldAccess = this.#accessToken();
    const cookiesBefore = this.#jar.header('/auth/refresh');
    const res = await this.#post('/auth/refresh');
    if (res.status !== 200) {
      this.#report.fail('refresh rotation', `POST /auth/refresh → ${res.status}, expected 200`);
      await this.#restart();
      return;
    }
    checkSecurityHeaders(this.#report, 'POST /auth/refresh', res, { auth: true });
    this.#checkBody('POST /auth/refresh', res);
    this.#jar.update(res.setCookies);
    const newRefresh = this.#jar.get('tw_rt')?.value;
    const newAccess = this.#accessToken();
    const problems: string[] = [];
    if (newRefresh === undefined || newRefresh === oldRefresh)
      problems.push('the refresh token did not change (every use must rotate it)');
    if (newAccess === null || newAccess === oldAccess) problems.push('the access token did not change');
    this.#report.expect('refresh rotation', problems, '200, new refresh token and new access token');

    // Replaying the rotated token within the grace window (10 s by default): same successor, no revocation.
    const replay = await this.#post('/auth/refresh', { cookies: cookiesBefore });
    const replayed = replay.setCookies.find((c) => baseName(c.name) === 'tw_rt')?.value;
    if (replay.status === 200 && replayed === newRefresh) {
      this.#report.pass('refresh grace replay', 'the old refresh token replayed at once → 200 with the same successor');
      this.#jar.update(replay.setCookies);
    } else if (replay.status === 401) {
      const code = (replay.json as { code?: string } | undefined)?.code;
      this.#report.warn(
        'refresh grace replay',
        `the old refresh token replayed at once → 401 ${code ?? ''} (grace window disabled? API.md default 10 s for racing tabs)`,
      );
      this.#jar.update(replay.setCookies);
      await this.#restart();
    } else {
      this.#report.fail(
        'refresh grace replay',
        `the old refresh token replayed at once → ${replay.status}${replayed === undefined ? ' without a refresh cookie' : ' with a different successor'} (expected the same successor: never two live successors)`,
      );
      await this.#restart();
    }
  }

  /** Logout clears every session cookie as it was set, and the access token dies within 1 s. */
  async #checkLogout(): Promise<void> {
    const access = this.#accessToken();
    const held = SESSION_COOKIES.map((base) => this.#jar.get(base)).filter((c): c is SetCookie => c !== undefined);
    const res = await this.#post('/auth/logout');
    if (res.status !== 204 && res.status !== 200) {
      this.#report.fail('logout', `POST /auth/logout → ${res.status}, expected 204`);
      return;
    }
    const problems = held.flatMap((c) =>
      clearingProblems(
        c,
        res.setCookies.find((s) => s.name === c.name),
      ),
    );
    if (res.setCookies.some((c) => baseName(c.name) === 'tw_dev' && c.attributes.get('max-age') === '0'))
      problems.push('the device cookie tw_dev was cleared (it should stay, so the next login is not "new")');
    this.#report.expect(
      'logout clears cookies',
      problems,
      `${res.status}; ${held.map((c) => c.name).join(', ')} cleared with Max-Age=0 and the same Path/Domain/Secure`,
    );
    this.#jar.update(res.setCookies);
    if (access === null) return;
    const start = Date.now();
    let status = 0;
    while (Date.now() - start < REVOCATION_DEADLINE_MS) {
      status = await this.#meWith(access);
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (status === 401)
      this.#report.pass('revoked access token', `refused (401) ${Date.now() - start} ms after logout`);
    else
      this.#report.fail(
        'revoked access token',
        `still accepted (${status}) ${REVOCATION_DEADLINE_MS} ms after logout (API.md: refused within 1 s on every node)`,
      );
  }
}
