import type { AuditReport } from './audit-report.js';
import type { HttpProbe, ProbeResponse } from './http-probe.js';

/** JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Whether a host name is the machine itself (plain http is fine there, for development).
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1'); // true
 * isLoopback('app.example.com'); // false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(hostname) || hostname.endsWith('.localhost');
}

/**
 * HTTPS (plain http only on loopback).
 *
 * @example
 * ```ts
 * checkTransport(report, new URL('https://app.example.com')); // PASS  https: served over HTTPS
 * ```
 */
export function checkTransport(report: AuditReport, base: URL): void {
  if (base.protocol === 'https:') report.pass('https', 'served over HTTPS');
  else if (isLoopback(base.hostname))
    report.pass('https', `plain http on loopback (${base.hostname}): fine for development, use https in production`);
  else
    report.warn(
      'https',
      `plain http on ${base.hostname}: cookies and tokens travel unencrypted; serve Tokenward over HTTPS`,
    );
}

/**
 * Over HTTPS, `Strict-Transport-Security` on `/` (not in API.md: a WARN when missing).
 *
 * @example
 * ```ts
 * checkHsts(report, base, await probe.send({ path: '/' }));
 * ```
 */
export function checkHsts(report: AuditReport, base: URL, root: ProbeResponse): void {
  if (base.protocol !== 'https:') return;
  const hsts = root.headers.get('strict-transport-security');
  if (hsts) report.pass('hsts', hsts);
  else report.warn('hsts', 'no Strict-Transport-Security header on / (browsers may try plain http first)');
}

/**
 * `GET /healthz`: 200 `{status: "ok"}`.
 *
 * @example
 * ```ts
 * checkHealth(report, await probe.send({ path: '/healthz' }));
 * ```
 */
export function checkHealth(report: AuditReport, res: ProbeResponse): void {
  const status = (res.json as { status?: unknown } | undefined)?.status;
  if (res.status === 200 && status === 'ok') report.pass('GET /healthz', '200 {"status":"ok"}');
  else report.fail('GET /healthz', `${res.status} ${res.text.slice(0, 120)} (expected 200 {"status":"ok"})`);
}

/**
 * JWKS: public members only, and cacheable (`Cache-Control: public, max-age=…`).
 *
 * @example
 * ```ts
 * checkJwks(report, await probe.send({ path: '/.well-known/jwks.json' }));
 * ```
 */
export function checkJwks(report: AuditReport, res: ProbeResponse): void {
  const keys = (res.json as { keys?: unknown } | undefined)?.keys;
  if (res.status !== 200 || !Array.isArray(keys) || keys.length === 0) {
    report.fail('JWKS keys', `${res.status}: expected 200 with a non-empty "keys" array`);
  } else {
    const problems: string[] = [];
    for (const key of keys as Record<string, unknown>[]) {
      const leaked = PRIVATE_JWK_MEMBERS.filter((m) => key !== null && typeof key === 'object' && m in key);
      if (leaked.length > 0)
        problems.push(
          `key ${String(key.kid ?? '(no kid)')} publishes private/symmetric member${leaked.length > 1 ? 's' : ''} ${leaked.join(', ')}`,
        );
      if (typeof key?.kid !== 'string') problems.push('a key without "kid"');
    }
    report.expect(
      'JWKS keys',
      problems,
      `${keys.length} public key${keys.length === 1 ? '' : 's'} (${(keys as { alg?: string }[]).map((k) => k.alg ?? '?').join(', ')}), no private members`,
    );
  }
  const cc = res.headers.get('cache-control') ?? '';
  const ok = /\bpublic\b/i.test(cc) && /\bmax-age=\d+/i.test(cc) && !/no-store/i.test(cc);
  if (ok) report.pass('JWKS Cache-Control', cc);
  else
    report.fail(
      'JWKS Cache-Control',
      `${cc === '' ? '(missing)' : cc}: expected "public, max-age=…" (verifiers cache the keys)`,
    );
}

/**
 * The default security headers of every response (API.md, Conventions); on HTML, a CSP with
 * `frame-ancestors 'none'` too. `auth`: an /auth response, which must also be `no-store`.
 *
 * @example
 * ```ts
 * checkSecurityHeaders(report, 'GET /auth/me', await probe.send({ path: '/auth/me' }), { auth: true });
 * ```
 */
export function checkSecurityHeaders(
  report: AuditReport,
  label: string,
  res: ProbeResponse,
  options: { auth: boolean },
): void {
  const h = res.headers;
  const nosniff = h.get('x-content-type-options');
  if (nosniff?.toLowerCase() === 'nosniff') report.pass(`${label} X-Content-Type-Options`, 'nosniff');
  else report.fail(`${label} X-Content-Type-Options`, `${nosniff ?? '(missing)'}: expected nosniff`);

  const referrer = (h.get('referrer-policy') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .at(-1);
  if (referrer === 'no-referrer') report.pass(`${label} Referrer-Policy`, 'no-referrer');
  else if (referrer === 'same-origin' || referrer === 'strict-origin' || referrer === 'strict-origin-when-cross-origin')
    report.warn(`${label} Referrer-Policy`, `${referrer}: API.md asks for no-referrer`);
  else
    report.fail(
      `${label} Referrer-Policy`,
      `${referrer ?? '(missing)'}: expected no-referrer (URLs may carry state to other sites)`,
    );

  const xfo = h.get('x-frame-options');
  const csp = h.get('content-security-policy') ?? '';
  const frameAncestorsNone = /(^|;)\s*frame-ancestors\s+'none'\s*(;|$)/i.test(csp);
  if (xfo?.toUpperCase() === 'DENY') report.pass(`${label} X-Frame-Options`, 'DENY');
  else report.fail(`${label} X-Frame-Options`, `${xfo ?? '(missing)'}: expected DENY (clickjacking)`);
  const html = (h.get('content-type') ?? '').toLowerCase().startsWith('text/html');
  if (html) {
    if (frameAncestorsNone) report.pass(`${label} CSP frame-ancestors`, "'none'");
    else
      report.fail(
        `${label} CSP frame-ancestors`,
        `${csp === '' ? 'no Content-Security-Policy' : csp}: an HTML page needs frame-ancestors 'none'`,
      );
  }
  if (options.auth) {
    const cc = h.get('cache-control') ?? '';
    if (/\bno-store\b/i.test(cc)) report.pass(`${label} Cache-Control`, cc);
    else report.fail(`${label} Cache-Control`, `${cc === '' ? '(missing)' : cc}: expected no-store on /auth responses`);
  }
}

/**
 * The ways a response is not RFC 9457 problem details with the given status (API.md, Conventions).
 *
 * @example
 * ```ts
 * problemProblems(await probe.send({ path: '/auth/nope' }), 404); // [] when it is
 * ```
 */
export function problemProblems(res: ProbeResponse, status: number): string[] {
  const problems: string[] = [];
  if (res.status !== status) problems.push(`status ${res.status}, expected ${status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/problem+json'))
    problems.push(`Content-Type ${type || '(missing)'}, expected application/problem+json`);
  const body = res.json as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') {
    problems.push('body is not JSON');
    return problems;
  }
  if (typeof body.type !== 'string') problems.push('no "type"');
  if (typeof body.title !== 'string') problems.push('no "title"');
  if (body.status !== res.status) problems.push(`"status" ${String(body.status)} differs from the HTTP status`);
  if (typeof body.code !== 'string') problems.push('no "code"');
  if (/\bat .+:\d+:\d+\)?|stack|SQLITE_|syntax error at or near/i.test(res.text))
    problems.push('the body looks like it leaks internals (stack trace or SQL)');
  return problems;
}

/**
 * 404 problem details on an unknown route; 405 with `Allow` on a known route with the wrong method.
 *
 * @example
 * ```ts
 * await checkProblems(report, probe);
 * ```
 */
export async function checkProblems(report: AuditReport, probe: HttpProbe): Promise<void> {
  const unknownPath = `/auth/tokenward-audit-${crypto.randomUUID().slice(0, 8)}`;
  const unknown = await probe.send({ path: unknownPath });
  report.expect(
    '404 problem+json',
    problemProblems(unknown, 404),
    `GET ${unknownPath} → 404 application/problem+json (code ${(unknown.json as { code?: string } | undefined)?.code})`,
  );
  const wrong = await probe.send({ method: 'GET', path: '/auth/logout' });
  const problems = problemProblems(wrong, 405);
  const allow = wrong.headers.get('allow');
  if (!allow) problems.push('no Allow header');
  else if (!/\bPOST\b/i.test(allow)) problems.push(`Allow: ${allow} does not list POST`);
  report.expect('405 problem+json', problems, `GET /auth/logout → 405, Allow: ${allow}`);
}

/**
 * Fetches `path`, or records a FAIL for `check` and returns null when the request fails.
 *
 * @example
 * ```ts
 * const health = await fetchOrFail(report, 'GET /healthz', probe, '/healthz');
 * ```
 */
export async function fetchOrFail(
  report: AuditReport,
  check: string,
  probe: HttpProbe,
  path: string,
): Promise<ProbeResponse | null> {
  try {
    return await probe.send({ path });
  } catch (error) {
    report.fail(check, (error as Error).message);
    return null;
  }
}
