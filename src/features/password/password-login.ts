import { TokenwardError } from '../../errors.js';
import type { KernelConfig } from '../../kernel/config/kernel-config.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  enforceIpLimit,
  passwordBackoffKey,
  reserveSecretAttempt,
  secretBackoff,
} from '../../kernel/limits/attempts.js';
import type { LoginOutcome } from '../../kernel/login/finish-login.js';
import type { RequestContext } from '../../kernel/request-context.js';
import type { StartSessionOptions } from '../../kernel/sessions/start-session.js';
import { normalizeEmail } from '../../kernel/users/normalize-email.js';
import { normalizePassword } from './password-policy.js';

/**
 * Password login (API.md `POST /auth/login`, and the password grant): the per-IP limit, the
 * account's backoff (the attempt is reserved before the hash is checked, so concurrent guesses
 * cannot outrun it), the same work for unknown emails (a dummy hash), a rehash when the
 * parameters changed — then the login pipeline (gates, second factor, session).
 */
export async function passwordLogin(
  kernel: Kernel,
  limits: KernelConfig['limits'],
  input: { email: string; password: string },
  rc: RequestContext,
  options: StartSessionOptions = {},
): Promise<LoginOutcome> {
  // A request the login gates refuse outright (an unsupported browser) spends no attempt and no hash.
  await kernel.checkLoginRequest(rc);
  await enforceIpLimit(kernel.limiter, 'login', rc.ip, limits.loginPerIp, limits);
  // Unparseable emails back off like unknown ones: the key is the normalised text either way.
  const email = normalizeEmail(input.email) ?? input.email.trim().toLowerCase().slice(0, 320);
  const succeeded = await reserveSecretAttempt(kernel.limiter, passwordBackoffKey(email), secretBackoff(limits));

  const user = await kernel.store.findUserByEmail(email);
  const credentials = user ? await kernel.store.getCredentials(user.id) : null;
  // Same work for unknown emails: verify against a dummy hash.
  const hash = credentials?.passwordHash ?? (await kernel.hasher.dummyHash());
  const password = normalizePassword(input.password);
  const valid = await kernel.hasher.verify(hash, password);
  if (!user || !credentials || !valid) {
    if (user)
      await kernel.recordEvent({
        type: 'login.failed',
        userId: user.id,
        ip: rc.ip,
        sessionId: null,
        userAgent: rc.userAgent,
      });
    throw new TokenwardError('invalid_credentials');
  }
  await succeeded();
  if (kernel.hasher.needsRehash(credentials.passwordHash)) {
    await kernel.store.setPasswordHash(user.id, await kernel.hasher.hash(password));
  }
  return kernel.finishLogin(user, ['pwd'], rc, options);
}
