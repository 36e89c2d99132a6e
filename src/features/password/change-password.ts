import { TokenwardError } from '../../errors.js';
import type { KernelConfig } from '../../kernel/config/kernel-config.js';
import type { Kernel } from '../../kernel/kernel.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { User } from '../../kernel/ports.js';
import type { RequestContext } from '../../kernel/request-context.js';
import { confirmPassword } from './confirm-password.js';
import { assertPasswordPolicy, normalizePassword } from './password-policy.js';

/**
 * Changes a signed-in user's password (API.md `POST /auth/password`): the policy first (a weak
 * new password costs no attempt and changes nothing), the per-IP limit, the current password
 * (the account's backoff), the new hash, and every other session revoked. Returns their number.
 */
export async function changePassword(
  kernel: Kernel,
  limits: KernelConfig['limits'],
  commonPasswords: ReadonlySet<string>,
  user: User,
  input: { currentPassword: string; newPassword: string },
  rc: RequestContext,
  sessionId: string,
): Promise<number> {
  assertPasswordPolicy(input.newPassword, commonPasswords, user.email);
  await enforceIpLimit(kernel.limiter, 'password', rc.ip, limits.loginPerIp, limits);
  try {
    await confirmPassword(
      { store: kernel.store, hasher: kernel.hasher, limiter: kernel.limiter, limits },
      user,
      input.currentPassword,
    );
  } catch (error) {
    if (error instanceof TokenwardError && error.code === 'invalid_credentials') {
      await kernel.recordEvent({
        type: 'password.change_failed',
        userId: user.id,
        ip: rc.ip,
        sessionId,
        userAgent: rc.userAgent,
      });
    }
    throw error;
  }
  await kernel.store.setPasswordHash(user.id, await kernel.hasher.hash(normalizePassword(input.newPassword)));
  const revoked = await kernel.revokeUserSessions(user.id, 'password_change', rc, sessionId);
  await kernel.recordEvent({
    type: 'password.changed',
    userId: user.id,
    ip: rc.ip,
    sessionId,
    userAgent: rc.userAgent,
  });
  return revoked.length;
}
