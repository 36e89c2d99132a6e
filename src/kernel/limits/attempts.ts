import { TokenwardError } from '../../errors.js';
import type { BackoffPolicy, Limiter } from '../ports.js';
import { consumeIpLimit, type IpNetworkPolicy } from './ip-network.js';

/** The limits every secret check shares (a slice of the resolved config). */
export interface AttemptLimits extends IpNetworkPolicy {
  loginPerAccount: number;
  loginBackoffMaxSec: number;
}

/** The backoff key of an account's password (shared by login, the password grant, step-up and password change). */
export function passwordBackoffKey(email: string): string {
  return `login:acct:${email}`;
}

/** The backoff key of a user's second factor (TOTP codes and recovery codes, wherever they are checked). */
export function secondFactorBackoffKey(userId: string): string {
  return `totp:user:${userId}`;
}

/** API.md: 5 free failures, then 1 s doubling up to the configured maximum. */
export function secretBackoff(limits: Pick<AttemptLimits, 'loginPerAccount' | 'loginBackoffMaxSec'>): BackoffPolicy {
  return { freeFailures: limits.loginPerAccount, baseSec: 1, maxSec: limits.loginBackoffMaxSec };
}

function tooManyAttempts(retryAfterSec: number): TokenwardError {
  return new TokenwardError('too_many_attempts', { headers: { 'Retry-After': String(retryAfterSec) } });
}

/**
 * Reserves one attempt at a secret check (password, TOTP or recovery code) before the secret is
 * verified, or throws 429 `too_many_attempts` with `Retry-After`. Every place a secret is checked
 * goes through this one door: the attempt is counted atomically first, so a burst sent at once is
 * evaluated at most as often as the backoff allows, on every node. Returns what to call when the
 * secret was right (clears the attempts counted up to this one).
 *
 * @example
 * ```ts
 * const succeeded = await reserveSecretAttempt(limiter, `login:acct:${email}`, secretBackoff(limits));
 * if (await hasher.verify(hash, password)) await succeeded();
 * ```
 */
export async function reserveSecretAttempt(
  limiter: Limiter,
  key: string,
  policy: BackoffPolicy,
): Promise<() => Promise<void>> {
  const reservation = await limiter.reserveAttempt(key, policy);
  if (!reservation.allowed) throw tooManyAttempts(reservation.retryAfterSec);
  return reservation.succeeded;
}

/** Counts a per-IP limit (keyed by the address's network) or throws 429 `too_many_attempts`. */
export async function enforceIpLimit(
  limiter: Limiter,
  scope: string,
  ip: string,
  rate: { count: number; windowSec: number },
  policy: IpNetworkPolicy,
): Promise<void> {
  const result = await consumeIpLimit(limiter, scope, ip, rate, policy);
  if (!result.allowed) throw tooManyAttempts(result.retryAfterSec);
}
