import type { User } from '../ports.js';
import type { RequestContext } from '../request-context.js';

/**
 * A second factor the login pipeline asks after the first one (TOTP, passkeys): when any is
 * enrolled, no session starts until one of them is verified.
 */
export interface SecondFactor {
  /** `totp`, `passkey`, … (also what the login answer lists under `methods`). */
  id: string;
  /** Whether the login pipeline asks this factor of the user (it is enrolled). */
  isEnrolled(userId: string): Promise<boolean>;
  /**
   * How many of this factor the user holds (passkeys: one per credential), for the rule that the
   * last second factor of an account that requires MFA cannot be removed. Default: 1 when
   * {@link SecondFactor.isEnrolled}, else 0.
   */
  enrolledCount?(userId: string): Promise<number>;
}

/** One way to prove, for a step-up, that it is still the user (password, TOTP code, passkey). */
export interface StepUpMethod {
  /** The field of `POST {basePath}/step-up` that carries this proof. */
  field: string;
  /** RFC 8176 methods a successful proof shows (for the event and the next token's `amr`). */
  amr: readonly string[];
  /** Checks the proof's shape before anything is counted: 400 `invalid_request` naming the field. */
  parse(proof: unknown): unknown;
  /**
   * Verifies the (parsed) proof; counted by the attempt limits. Throws a TokenwardError for a
   * wrong proof (the step-up answers every kind as 401 `invalid_credentials`) or 429 `too_many_attempts`.
   * `session` is the session asking for the step-up (a passkey's challenge is bound to it).
   */
  verify(user: User, proof: unknown, rc: RequestContext, session: { sessionId: string }): Promise<void>;
}

/** A rule every login passes before a session starts (email verified, MFA enrolled, browser supported). */
export interface LoginGate {
  id: string;
  /** Throws a TokenwardError to refuse the login: no session, no cookies. */
  check(user: User, amr: readonly string[], rc: RequestContext): Promise<void>;
  /**
   * The part of the rule that needs only the request (the browser check): ways in that create an
   * account or check a secret run it first (`kernel.checkLoginRequest`), so a refused request
   * leaves no account behind and spends no attempt. `check` must still enforce it: a way in that
   * does not pre-check cannot start a session either.
   */
  checkRequest?(rc: RequestContext): Promise<void>;
}
