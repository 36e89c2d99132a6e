import { authenticateCachedToken, authenticateToken, describeSession } from './authenticate.js';
import { type EventInput, recordEvent } from './events.js';
import type { KernelDeps } from './kernel-deps.js';
import { type FinishLoginOptions, finishLogin, type LoginOutcome } from './login/finish-login.js';
import { removeSecondFactor } from './login/remove-second-factor.js';
import type {
  AuthEvent,
  Clock,
  Limiter,
  PasswordHasher,
  RevocationBus,
  RevokeReason,
  Session,
  Store,
  User,
} from './ports.js';
import { rotateRefreshToken, sessionForRefreshToken, type TokenBinding } from './refresh/rotate-refresh-token.js';
import type { RequestContext } from './request-context.js';
import { revokeSession, revokeUserSessions } from './sessions/revoke.js';
import { type SessionRestriction, sessionRestriction } from './sessions/session-restriction.js';
import { type IssuedSession, type StartSessionOptions, startSession } from './sessions/start-session.js';
import type { AccessTokenClaims } from './tokens/access-token.js';
import { type AccessTokenExtras, issueAccessToken } from './tokens/issue-access-token.js';
import { deleteUser } from './users/delete-user.js';
import { setUserDisabled } from './users/set-user-disabled.js';

/**
 * The kernel: sessions, refresh rotation, authentication and revocation over the ports, with the
 * login pipeline that every way in ends with. Each operation lives in its own file (named after
 * it); this class only holds their shared dependencies, so features and the HTTP layer call
 * `kernel.refresh(...)` without threading them through.
 */
export class Kernel {
  readonly #d: KernelDeps;

  constructor(deps: KernelDeps) {
    this.#d = deps;
  }

  get store(): Store {
    return this.#d.store;
  }
  get limiter(): Limiter {
    return this.#d.limiter;
  }
  get bus(): RevocationBus | null {
    return this.#d.bus;
  }
  get hasher(): PasswordHasher {
    return this.#d.hasher;
  }
  get clock(): Clock {
    return this.#d.clock;
  }

  /** Records an audit event of a registered type. */
  async recordEvent(event: EventInput): Promise<AuthEvent> {
    return recordEvent(this.#d, event);
  }

  /** Gates, second factors, then the session: see login/finish-login.ts. */
  finishLogin(user: User, amr: string[], rc: RequestContext, options?: FinishLoginOptions): Promise<LoginOutcome> {
    return finishLogin(this.#d, user, amr, rc, options);
  }

  /**
   * Removes one of a user's second factors, refusing (409 `last_second_factor`) to remove the
   * last one while `requireMfa` is on: see login/remove-second-factor.ts.
   */
  removeSecondFactor(userId: string, remove: () => Promise<boolean>): Promise<boolean> {
    return removeSecondFactor(this.#d, userId, remove);
  }

  /** What a session may not do yet (its tokens' `tw_restriction`), or undefined: see sessions/session-restriction.ts. */
  restrictionOf(session: Pick<Session, 'amr'>): SessionRestriction | undefined {
    return sessionRestriction(this.#d.policy, session.amr);
  }

  /**
   * The request-only part of every login gate (see `LoginGate.checkRequest`), before any account
   * is created or secret checked. Throws the gate's TokenwardError; no gate with such a part: no-op.
   */
  async checkLoginRequest(rc: RequestContext): Promise<void> {
    for (const gate of this.#d.gates) await gate.checkRequest?.(rc);
  }

  /** Starts a session without the login pipeline: only for a login that already passed it (see finishLogin). */
  startSession(user: User, rc: RequestContext, amr: string[], options?: StartSessionOptions): Promise<IssuedSession> {
    return startSession(this.#d, user, rc, amr, options);
  }

  issueAccessToken(
    session: Session,
    extra?: AccessTokenExtras,
  ): Promise<{ accessToken: string; accessExpiresAt: number }> {
    return issueAccessToken(this.#d, session, extra);
  }

  refresh(presented: string | null, rc: RequestContext, binding?: TokenBinding): Promise<IssuedSession> {
    return rotateRefreshToken(this.#d, presented, rc, binding);
  }

  sessionForRefreshToken(presented: string | null): Promise<Session | null> {
    return sessionForRefreshToken(this.#d, presented);
  }

  authenticateCached(token: string): AccessTokenClaims | null | undefined {
    return authenticateCachedToken(this.#d, token);
  }

  authenticate(token: string): Promise<AccessTokenClaims | null> {
    return authenticateToken(this.#d, token);
  }

  describe(claims: AccessTokenClaims): Promise<{ user: User; session: Session } | null> {
    return describeSession(this.#d, claims);
  }

  revokeSession(sessionId: string, reason: RevokeReason, rc: RequestContext | null): Promise<Session | null> {
    return revokeSession(this.#d, sessionId, reason, rc);
  }

  revokeUserSessions(
    userId: string,
    reason: RevokeReason,
    rc: RequestContext | null,
    exceptId?: string,
  ): Promise<string[]> {
    return revokeUserSessions(this.#d, userId, reason, rc, exceptId);
  }

  /** Deletes an account and everything of it in one transaction; see users/delete-user.ts. */
  deleteUser(userId: string, rc: RequestContext | null): Promise<number | null> {
    return deleteUser(this.#d, userId, rc);
  }

  /** Disables (every session revoked) or enables an account; see users/set-user-disabled.ts. */
  setUserDisabled(userId: string, disabled: boolean, rc: RequestContext | null): Promise<number | null> {
    return setUserDisabled(this.#d, userId, disabled, rc);
  }
}

export type { IssuedSession, LoginOutcome, RequestContext, SessionRestriction, TokenBinding };
