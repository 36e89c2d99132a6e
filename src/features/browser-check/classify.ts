import Bowser from 'bowser';

/**
 * How well a browser can keep a Tokenward session safe:
 * - `supported`: every layer works (HttpOnly, SameSite, `__Host-` prefixes, Fetch Metadata);
 * - `degraded`: the session cookies are safe, but a CSRF layer is missing on this request, so the
 *   server falls back to the `Origin` check or the signed double-submit token (API.md "CSRF rule");
 * - `unsupported`: the browser is known to ignore `HttpOnly` or `SameSite`, or is retired by its
 *   vendor: no server-side fallback makes its session cookies safe.
 */
export type BrowserStatus = 'supported' | 'degraded' | 'unsupported';

/**
 * Why a browser is not `supported` (stable codes; docs/browsers.md has the table and its sources):
 * - `httponly_ignored`: script can read `HttpOnly` cookies (before IE 6 SP1, Firefox 3, Safari 5, Opera 9.5);
 * - `samesite_ignored`: `SameSite` is ignored, every cookie rides on cross-site requests;
 * - `retired_browser`: IE 11 on Windows 10 and Edge Legacy 16–18: no security fixes since 2022/2021,
 *   `SameSite` only with a 2018 Windows update the request cannot show, no cookie prefixes;
 * - `cookie_prefixes_ignored`: `__Host-`/`__Secure-` are not enforced (Safari 12, iOS 12.2–12.5):
 *   a sibling subdomain can plant cookies (session fixation); no Fetch Metadata either;
 * - `no_fetch_metadata`: the browser predates `Sec-Fetch-Site` (Chrome < 76, Firefox < 90, Safari < 16.4);
 * - `fetch_metadata_stripped`: the browser sends `Sec-Fetch-Site`, but this request arrived
 *   without it (a proxy or an extension removes headers on the way);
 * - `unknown_browser`: no `Sec-Fetch-Site` and a User-Agent that names no browser we know.
 */
export type BrowserReason =
  | 'httponly_ignored'
  | 'samesite_ignored'
  | 'retired_browser'
  | 'cookie_prefixes_ignored'
  | 'no_fetch_metadata'
  | 'fetch_metadata_stripped'
  | 'unknown_browser';

/** The verdict the server sends as `browser` in `/auth/me` and the login and signup answers. */
export interface BrowserVerdict {
  status: BrowserStatus;
  /** Null when `supported`. */
  reason: BrowserReason | null;
}

/** What the classification reads from a request. */
export interface BrowserSignals {
  userAgent: string;
  /** The `Sec-Fetch-Site` header (null when absent). */
  secFetchSite: string | null;
}

/** What a User-Agent alone says: a fixed verdict, or whether the browser sends Fetch Metadata. */
type UserAgentFacts =
  | { kind: 'verdict'; verdict: BrowserVerdict }
  | { kind: 'known'; fetchMetadata: boolean }
  | { kind: 'unknown' };

type Version = readonly number[];

const SUPPORTED: BrowserVerdict = Object.freeze({ status: 'supported', reason: null });
const FETCH_SITE_VALUES = new Set(['same-origin', 'same-site', 'cross-site', 'none']);

const unsupported = (reason: BrowserReason): UserAgentFacts => ({
  kind: 'verdict',
  verdict: Object.freeze({ status: 'unsupported', reason }),
});
const degraded = (reason: BrowserReason): UserAgentFacts => ({
  kind: 'verdict',
  verdict: Object.freeze({ status: 'degraded', reason }),
});

/** "12.1.2" → [12, 1, 2]; "NT 6.1" → [6, 1]; anything without digits → []. Bounded: attacker-chosen text. */
function versionOf(text: string | undefined): Version {
  const match = /(\d{1,6})(?:[._](\d{1,6}))?/.exec((text ?? '').slice(0, 64));
  if (!match) return [];
  return match[2] === undefined ? [Number(match[1])] : [Number(match[1]), Number(match[2])];
}

/** a < b, comparing [major, minor]; an unknown version ([]) is below everything. */
function below(a: Version, b: Version): boolean {
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? (i === 0 ? -1 : 0);
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * The engine rules, oldest hazard first. Versions from MDN browser-compat-data 8.1.9
 * (`http.headers.Set-Cookie.HttpOnly`, `.SameSite`, `.host_secure_prefixes`,
 * `http.headers.Sec-Fetch-Site`), the Microsoft Edge blog (SameSite in IE 11 / Edge on Windows 10
 * 1709+ only with the June 2018 update) and OWASP's HttpOnly page (IE 6 SP1, Opera 9.5): see
 * docs/browsers.md.
 */
function factsOf(ua: string): UserAgentFacts {
  const parsed = Bowser.parse(ua);
  const browser = parsed.browser.name ?? '';
  const engine = parsed.engine.name ?? '';
  const os = parsed.os.name ?? '';

  if (browser === 'Internet Explorer' || engine === 'Trident') {
    const version = versionOf(parsed.browser.version);
    if (below(version, [6])) return unsupported('httponly_ignored');
    if (below(version, [11])) return unsupported('samesite_ignored');
    // IE 11 honours SameSite only on Windows 10 1709+ with the June 2018 update.
    const windows = versionOf(parsed.os.version);
    if (os === 'Windows' && below(windows, [10])) return unsupported('samesite_ignored');
    return unsupported('retired_browser');
  }
  if (engine === 'EdgeHTML') {
    // Edge Legacy: SameSite from EdgeHTML 16 (with the June 2018 update); retired March 2021.
    return below(versionOf(parsed.engine.version), [16])
      ? unsupported('samesite_ignored')
      : unsupported('retired_browser');
  }
  const opera = versionOf(parsed.browser.version);
  if (engine === 'Presto' || (browser === 'Opera' && below(opera, [15]))) {
    // Opera before 15 (and Opera Mini) is Presto: it never implemented SameSite; HttpOnly from Opera 9.5.
    // Opera numbers minors in two digits (9.25 < 9.50).
    return below(opera, [9, 50]) ? unsupported('httponly_ignored') : unsupported('samesite_ignored');
  }
  if (os === 'iOS') {
    // Every iOS browser (Safari, CriOS, FxiOS, web views) uses the system WebKit: the iOS version decides.
    const version = versionOf(parsed.os.version);
    if (version.length === 0) return { kind: 'unknown' };
    if (below(version, [4])) return unsupported('httponly_ignored');
    if (below(version, [12, 2])) return unsupported('samesite_ignored');
    if (below(version, [13])) return degraded('cookie_prefixes_ignored');
    return { kind: 'known', fetchMetadata: !below(version, [16, 4]) };
  }
  if (browser === 'Android Browser') return unsupported('samesite_ignored');

  const chromium = /(?:Chrome|Chromium)\/(\d{1,6})/.exec(ua);
  if (chromium) {
    const version = [Number(chromium[1])];
    if (below(version, [51])) return unsupported('samesite_ignored');
    return { kind: 'known', fetchMetadata: !below(version, [76]) };
  }
  if (engine === 'Gecko') {
    // The Gecko version (`rv:`) is Firefox's from Firefox 4 on (rv:1.9 is Firefox 3).
    const rv = /\brv:(\d{1,6})\.(\d{1,6})/.exec(ua);
    const version = rv ? [Number(rv[1]), Number(rv[2])] : versionOf(parsed.browser.version);
    if (version.length === 0) return { kind: 'unknown' };
    if (below(version, [1, 9])) return unsupported('httponly_ignored');
    if (below(version, [60])) return unsupported('samesite_ignored');
    return { kind: 'known', fetchMetadata: !below(version, [90]) };
  }
  if (browser === 'Safari' && engine === 'WebKit') {
    const version = versionOf(parsed.browser.version);
    if (version.length === 0) return { kind: 'unknown' };
    if (below(version, [5])) return unsupported('httponly_ignored');
    if (below(version, [12])) return unsupported('samesite_ignored');
    if (below(version, [13])) return degraded('cookie_prefixes_ignored');
    return { kind: 'known', fetchMetadata: !below(version, [16, 4]) };
  }
  return { kind: 'unknown' };
}

const CACHE = new Map<string, UserAgentFacts>();
const CACHE_LIMIT = 2000;

/** {@link factsOf}, memoised (one parse per distinct User-Agent) and never throwing. */
function userAgentFacts(userAgent: string): UserAgentFacts {
  const ua = userAgent.slice(0, 512);
  if (ua.trim() === '') return { kind: 'unknown' };
  const cached = CACHE.get(ua);
  if (cached) return cached;
  let facts: UserAgentFacts;
  try {
    facts = factsOf(ua);
  } catch {
    // bowser throws on some inputs; an unknown browser is the honest answer.
    facts = { kind: 'unknown' };
  }
  // Bounded: User-Agent strings are attacker-chosen.
  if (CACHE.size >= CACHE_LIMIT) CACHE.clear();
  CACHE.set(ua, facts);
  return facts;
}

/**
 * Whether the User-Agent names a browser known to ignore `HttpOnly` or `SameSite`, or retired by
 * its vendor: what the login gate refuses with `browsers.unsupported: 'block'`. Decided by the
 * User-Agent alone (a request cannot show cookie handling), so a missing header never blocks.
 *
 * @example
 * ```ts
 * unsupportedReason('Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko'); // 'samesite_ignored'
 * unsupportedReason('Mozilla/5.0 (X11; Linux x86_64) … Chrome/120.0.0.0 Safari/537.36'); // null
 * ```
 */
export function unsupportedReason(userAgent: string): BrowserReason | null {
  const facts = userAgentFacts(userAgent);
  return facts.kind === 'verdict' && facts.verdict.status === 'unsupported' ? facts.verdict.reason : null;
}

/**
 * Classifies the browser behind a request (see {@link BrowserStatus}): first what its
 * User-Agent is known to ignore, then whether this request carried Fetch Metadata. Pure, cheap
 * (one bowser parse per distinct User-Agent, cached), never throws.
 *
 * @example
 * ```ts
 * classifyBrowser({ userAgent: c.req.header('user-agent') ?? '', secFetchSite: c.req.header('sec-fetch-site') ?? null });
 * // { status: 'degraded', reason: 'fetch_metadata_stripped' } for a current Chrome behind a header-stripping proxy
 * ```
 */
export function classifyBrowser(signals: BrowserSignals): BrowserVerdict {
  const facts = userAgentFacts(signals.userAgent);
  if (facts.kind === 'verdict') return facts.verdict;
  const site = signals.secFetchSite?.trim().toLowerCase() ?? null;
  if (site !== null && FETCH_SITE_VALUES.has(site)) return SUPPORTED;
  // No Fetch Metadata on this request: the CSRF rule falls back to Origin, then the signed token.
  const reason: BrowserReason =
    facts.kind === 'unknown'
      ? 'unknown_browser'
      : facts.fetchMetadata
        ? 'fetch_metadata_stripped'
        : 'no_fetch_metadata';
  return { status: 'degraded', reason };
}
