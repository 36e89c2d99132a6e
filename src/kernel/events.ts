import { randomId } from './crypto/encoding.js';
import type { AuthEvent, Clock, Store } from './ports.js';

/**
 * Every audit event type Tokenward records (the user sees them at `GET /auth/events`), in one
 * place like the error codes: `recordEvent` accepts only these, so a typo cannot create a type
 * that no client knows.
 */
export const EVENT_TYPES = {
  'user.signup': 'An account was created (password signup or first federated login).',
  'login.success': 'A session started (the data holds the device markers of new-device detection).',
  'login.failed': 'A wrong password for an existing account.',
  'login.new_device': 'A session started on a device the user never used.',
  'login.second_factor_failed': 'A wrong second factor at the second login step.',
  'refresh.reuse_detected': 'A rotated refresh token was presented again: the session was revoked.',
  'session.revoked': 'One session was revoked (logout, by the user, by an administrator, …).',
  'session.revoke_others': 'Every other session of the user was revoked.',
  'session.logout_all': 'Every session of the user was revoked.',
  'session.evicted': 'The least recently active session made room for a new one (session limit).',
  'session.reported_not_me': 'The user reported a session from the new-device alert.',
  'step_up.success': 'A step-up grant was issued.',
  'step_up.failed': 'A step-up attempt failed.',
  'password.changed': 'The password was changed.',
  'password.change_failed': 'A password change failed (wrong current password).',
  'totp.enrollment_started': 'TOTP enrollment started.',
  'totp.enabled': 'TOTP was turned on.',
  'totp.disabled': 'TOTP was turned off.',
  'totp.recovery_codes_regenerated': 'New recovery codes replaced the old ones.',
  'totp.recovery_code_used': 'A recovery code was used to sign in.',
  'oidc.linked': 'An external identity was linked to the account.',
  'passkey.added': 'A passkey was registered.',
  'passkey.removed': 'A passkey was deleted.',
  'passkey.renamed': 'A passkey was renamed.',
  'passkey.used': 'A passkey signed in or confirmed a step-up.',
  'passkey.clone_suspected':
    "A passkey's signature counter went backwards (a cloned authenticator?): the assertion was refused.",
  'email.verified': 'The holder proved the address (a verification, reset or magic link).',
  'email.change_requested': 'A change of address was requested: a confirmation link went to the new address.',
  'email.changed': 'The address changed (the link sent to the new address was confirmed).',
  'password.reset': 'The password was set through a reset link; every session was revoked.',
  'account.exported': 'The user downloaded their data.',
  'account.disabled': 'An administrator disabled the account: every session was revoked.',
  'account.enabled': 'An administrator enabled the account again.',
  'account.deleted': 'The account was deleted (kept without the user id: nothing points at the person).',
} as const;

/**
 * Events an account deletion keeps, anonymised (no user, session or data): traces of attacks
 * and of the deletion itself, which an operator may still need after the person is gone. Every
 * other event of the user (their own activity) is deleted with the account.
 */
export const SECURITY_EVENT_TYPES: readonly AuthEventType[] = [
  'login.failed',
  'login.second_factor_failed',
  'refresh.reuse_detected',
  'session.reported_not_me',
  'step_up.failed',
  'password.change_failed',
  'account.disabled',
  'account.deleted',
];

/** An audit event type (see {@link EVENT_TYPES}). */
export type AuthEventType = keyof typeof EVENT_TYPES;

/** What a caller says about an event; id, time and the readable device are filled in. */
export interface EventInput {
  type: AuthEventType;
  userId: string | null;
  ip: string | null;
  sessionId: string | null;
  /** The request's User-Agent: recorded as a readable device ("Chrome on macOS"). */
  userAgent?: string;
  data?: Record<string, unknown> | null;
}

/** What {@link recordEvent} needs. */
export interface EventDeps {
  store: Store;
  clock: Clock;
  /** Describes a user agent ("Chrome on macOS"). */
  describeDevice?: ((userAgent: string) => string) | undefined;
  /** Called with each recorded event (logging, metrics); must not throw. */
  onEvent?: ((event: AuthEvent) => void) | undefined;
}

/**
 * Records an audit event of a registered type.
 *
 * @example
 * ```ts
 * await recordEvent(deps, { type: 'password.changed', userId, ip: rc.ip, sessionId, userAgent: rc.userAgent });
 * ```
 */
export async function recordEvent(deps: EventDeps, event: EventInput): Promise<AuthEvent> {
  const { userAgent, data, ...rest } = event;
  const full: AuthEvent = {
    id: randomId(),
    at: deps.clock.now(),
    device: userAgent && deps.describeDevice ? deps.describeDevice(userAgent) : null,
    data: data ?? null,
    ...rest,
  };
  await deps.store.recordEvent(full);
  deps.onEvent?.(full);
  return full;
}
