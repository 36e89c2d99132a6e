import { TokenwardError } from '../../errors.js';
import type { KernelDeps } from '../kernel-deps.js';
import type { User } from '../ports.js';
import type { RequestContext } from '../request-context.js';
import { type IssuedSession, type StartSessionOptions, startSession } from '../sessions/start-session.js';

/** Where a proven identity leads: a session, or a second step for an enrolled second factor. */
export type LoginOutcome =
  | { kind: 'session'; issued: IssuedSession }
  /** No session yet: the caller holds the pending login (sealed cookie) until a factor in `factors` is verified. */
  | { kind: 'second_factor'; user: User; amr: string[]; factors: string[] };

/** Options of {@link finishLogin}. */
export interface FinishLoginOptions extends StartSessionOptions {
  /**
   * This login already verified one of the account's own second factors (a TOTP code at the
   * second step, a passkey with user verification): do not ask for another. A provider's `mfa`
   * claim in `amr` does not count: an enrolled factor is always asked.
   */
  secondFactorDone?: boolean;
}

/**
 * The one place that decides whether a session starts. Every way in — password, federated
 * login, the second login step, and each coming one (magic link, passkey, password reset) —
 * ends here with the user it proved and the methods (`amr`, RFC 8176) it proved them with:
 *
 * 0. a disabled account is refused (403 `account_disabled`), whatever proved it;
 * 1. every login gate runs (each may refuse: no session, no cookies);
 * 2. unless this login already verified one of the account's second factors, an enrolled
 *    second factor turns the login into a pending one (`second_factor`);
 * 3. otherwise the session starts — restricted to enrolling a second factor when `requireMfa`
 *    is on and none was verified (sessions/session-restriction.ts).
 *
 * @example
 * ```ts
 * const outcome = await finishLogin(deps, user, ['pwd'], rc);
 * if (outcome.kind === 'second_factor') await setPendingLoginCookie(...);
 * ```
 */
export async function finishLogin(
  d: KernelDeps,
  user: User,
  proven: string[],
  rc: RequestContext,
  options: FinishLoginOptions = {},
): Promise<LoginOutcome> {
  // Reached only with a proven identity (right password, valid link, …): the answer tells nothing
  // to someone who has not proven it.
  if (user.disabledAt != null) throw new TokenwardError('account_disabled');
  // With requireMfa, `mfa` in a session's amr means "one of the account's own second factors was
  // verified": a federated provider's `mfa` does not count (the provider's policy is not ours),
  // so such a login without our second factor gets the enrolment-only session too.
  const amr = d.policy.requireMfa && !options.secondFactorDone ? proven.filter((m) => m !== 'mfa') : proven;
  for (const gate of d.gates) await gate.check(user, amr, rc);
  if (!options.secondFactorDone) {
    const enrolled: string[] = [];
    for (const factor of d.factors) if (await factor.isEnrolled(user.id)) enrolled.push(factor.id);
    if (enrolled.length > 0) return { kind: 'second_factor', user, amr, factors: enrolled };
  }
  const { secondFactorDone: _done, ...start } = options;
  return { kind: 'session', issued: await startSession(d, user, rc, [...new Set(amr)], start) };
}
