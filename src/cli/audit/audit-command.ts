import { CliFailure } from '../admin-store.js';
import type { CliOutput } from '../output.js';
import { AuditReport, formatResult } from './audit-report.js';
import {
  checkHealth,
  checkHsts,
  checkJwks,
  checkProblems,
  checkSecurityHeaders,
  checkTransport,
  fetchOrFail,
} from './deployment-checks.js';
import { HttpProbe } from './http-probe.js';
import { SessionChecks, type SessionSource } from './session-checks.js';

/** Options of {@link auditCommand}. */
export interface AuditOptions {
  /** Print one JSON document instead of lines. */
  json?: boolean | undefined;
  /** The origin the app's pages are served from (sent as `Origin` on legitimate requests); default: the URL's origin. */
  origin?: string | undefined;
  /** Accept a TLS certificate that does not verify (self-signed staging). */
  insecure?: boolean | undefined;
  /** Sign up a throwaway account for the session checks (default true); false skips them. */
  signup?: boolean | undefined;
  /** Log in with this existing test account instead of signing up (it must not have TOTP on). */
  account?: { email: string; password: string } | undefined;
  /** Timeout of every request (default 10 s). */
  timeoutMs?: number | undefined;
}

function parseOrigin(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliFailure(`${what} ${JSON.stringify(text)} is not a URL (e.g. https://app.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CliFailure(`${what} ${JSON.stringify(text)} must be http(s)`);
  return url;
}

/**
 * `tokenward audit <url>`: checks a running deployment from the outside against API.md's rules
 * (transport, JWKS, health, security headers, problem details, and, with a throwaway account,
 * the session cookies, CSRF rule, forged tokens, refresh rotation and logout). Prints one
 * PASS/FAIL/WARN line per check as it completes and a summary; exit code 1 on any FAIL.
 *
 * @example
 * ```ts
 * process.exitCode = await auditCommand('https://app.example.com', { out: console.log, err: console.error });
 * ```
 */
export async function auditCommand(target: string, io: CliOutput, options: AuditOptions = {}): Promise<number> {
  const url = parseOrigin(target, 'the audit URL');
  const base = new URL(url.origin);
  const origin = options.origin === undefined ? base.origin : parseOrigin(options.origin, '--origin').origin;
  const report = new AuditReport(options.json ? () => {} : (r) => io.out(formatResult(r)));
  if (options.insecure) {
    // fetch has no per-request switch; this process makes no other TLS connection.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    report.warn('TLS verification', 'off (--insecure): the certificate was not checked');
  }
  if (!options.json)
    io.out(
      `Auditing ${base.origin} against the Tokenward contract (API.md)${origin === base.origin ? '' : `, app origin ${origin}`} …`,
    );
  const probe = new HttpProbe(base, options.timeoutMs ?? 10_000);

  let created: string | null = null;
  checkTransport(report, base);
  const health = await fetchOrFail(report, 'GET /healthz', probe, '/healthz');
  if (health !== null) {
    checkHealth(report, health);
    const root = await fetchOrFail(report, 'GET /', probe, '/');
    if (root) {
      checkHsts(report, base, root);
      checkSecurityHeaders(report, 'GET /', root, { auth: false });
    }
    const jwks = await fetchOrFail(report, 'JWKS', probe, '/.well-known/jwks.json');
    if (jwks) checkJwks(report, jwks);
    const me = await fetchOrFail(report, 'GET /auth/me', probe, '/auth/me');
    if (me) {
      const problems = me.status === 401 ? [] : [`${me.status} without a session, expected 401`];
      if (me.status === 401 && !/^Bearer\b/i.test(me.headers.get('www-authenticate') ?? ''))
        problems.push('no WWW-Authenticate: Bearer header');
      report.expect(
        'GET /auth/me (no session)',
        problems,
        `401 ${(me.json as { code?: string } | undefined)?.code ?? ''} with WWW-Authenticate: ${me.headers.get('www-authenticate')}`,
      );
      checkSecurityHeaders(report, 'GET /auth/me', me, { auth: true });
    }
    try {
      await checkProblems(report, probe);
      const source: SessionSource | null = options.account
        ? { kind: 'login', ...options.account }
        : options.signup === false
          ? null
          : { kind: 'signup' };
      if (source === null)
        report.warn(
          'session checks',
          'skipped (--no-signup): cookies, CSRF, forged tokens, refresh and logout were not checked; use --email/--password for an existing test account',
        );
      else created = await new SessionChecks(probe, report, origin).run(source);
    } catch (error) {
      report.fail('request', (error as Error).message);
    }
  } else {
    report.fail('reachable', `cannot reach ${base.origin}; nothing else was checked`);
  }

  const summary = { passed: report.count('PASS'), warnings: report.count('WARN'), failed: report.count('FAIL') };
  if (options.json) {
    io.out(
      JSON.stringify(
        { target: base.origin, origin, checks: report.results, summary, createdAccount: created },
        null,
        2,
      ),
    );
  } else {
    if (created !== null)
      io.out(
        `note: the audit signed up ${created} (logged out; remove the account from the store if you keep it clean).`,
      );
    io.out(
      `Summary: ${summary.passed} passed, ${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}, ${summary.failed} failed — ${summary.failed === 0 ? 'OK' : 'FAILED'}`,
    );
  }
  return summary.failed === 0 ? 0 : 1;
}
