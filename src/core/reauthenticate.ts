import { TokenwardError } from '../errors.js';
import { normalizePassword } from './passwords.js';
import type { Limiter, PasswordHasher, Store, User } from './ports.js';

export interface ReauthenticateDeps {
  store: Store;
  hasher: PasswordHasher;
  limiter: Limiter;
  limits: { loginPerAccount: number; loginBackoffMaxSec: number };
}

/** The backoff key of an account's password (shared by login, step-up and password change). */
export function passwordBackoffKey(email: string): string {
  return `login:acct:${email}`;
}

/**
 * Checks the password of a signed-in user (step-up, password change). It shares the account's
 * login backoff: a stolen session gets no extra password guesses. Throws 429
 * `too_many_attempts` (with `Retry-After`) or 401 `invalid_credentials`; a success resets the
 * backoff, like a login.
 *
 * @example
 * ```ts
 * await confirmPassword(deps, user, body.password);
 * ```
 */
export async function confirmPassword(deps: ReauthenticateDeps, user: User, password: string): Promise<void> {
  const key = passwordBackoffKey(user.email);
  const backoff = await deps.limiter.backoffStatus(key);
  if (!backoff.allowed) throw new TokenwardError('too_many_attempts', { headers: { 'Retry-After': String(backoff.retryAfterSec) } });
  const credentials = await deps.store.getCredentials(user.id);
  const hash = credentials?.passwordHash ?? (await deps.hasher.dummyHash());
  const valid = await deps.hasher.verify(hash, normalizePassword(password));
  if (!credentials || !valid) {
    await deps.limiter.backoffFailure(key, { freeFailures: deps.limits.loginPerAccount, baseSec: 1, maxSec: deps.limits.loginBackoffMaxSec });
    throw new TokenwardError('invalid_credentials', { detail: 'The password is incorrect.' });
  }
  await deps.limiter.backoffReset(key);
}
