import { TokenwardError } from '../../errors.js';
import {
  type AttemptLimits,
  passwordBackoffKey,
  reserveSecretAttempt,
  secretBackoff,
} from '../../kernel/limits/attempts.js';
import type { Limiter, PasswordHasher, Store, User } from '../../kernel/ports.js';
import { normalizePassword } from './password-policy.js';

export interface ReauthenticateDeps {
  store: Store;
  hasher: PasswordHasher;
  limiter: Limiter;
  limits: AttemptLimits;
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
  // Reserved before the hash is checked: a burst of guesses is evaluated at most as often as the backoff allows.
  const succeeded = await reserveSecretAttempt(
    deps.limiter,
    passwordBackoffKey(user.email),
    secretBackoff(deps.limits),
  );
  const credentials = await deps.store.getCredentials(user.id);
  const hash = credentials?.passwordHash ?? (await deps.hasher.dummyHash());
  const valid = await deps.hasher.verify(hash, normalizePassword(password));
  if (!credentials || !valid) throw new TokenwardError('invalid_credentials', { detail: 'The password is incorrect.' });
  await succeeded();
}
