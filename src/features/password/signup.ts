import { TokenwardError } from '../../errors.js';
import type { KernelConfig } from '../../kernel/config/kernel-config.js';
import { randomId } from '../../kernel/crypto/encoding.js';
import type { Kernel } from '../../kernel/kernel.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { LoginOutcome } from '../../kernel/login/finish-login.js';
import type { User } from '../../kernel/ports.js';
import type { RequestContext } from '../../kernel/request-context.js';
import { normalizeEmail } from '../../kernel/users/normalize-email.js';
import { assertPasswordPolicy, normalizePassword } from './password-policy.js';

/**
 * Creates an account with a password (API.md `POST /auth/signup`): the per-IP signup limit, the
 * password policy, the user, `user.signup`, and its first session through the login pipeline (an
 * account's first device is not "new": there is nothing to compare it with).
 */
export async function signup(
  kernel: Kernel,
  limits: KernelConfig['limits'],
  commonPasswords: ReadonlySet<string>,
  input: { email: string; password: string; name: string | null },
  rc: RequestContext,
): Promise<LoginOutcome> {
  const email = normalizeEmail(input.email);
  if (email === null) throw new TokenwardError('invalid_request', { detail: 'email must be a valid email address.' });
  // A request the login gates refuse outright (an unsupported browser) creates no account.
  await kernel.checkLoginRequest(rc);
  await enforceIpLimit(kernel.limiter, 'signup', rc.ip, limits.signupPerIp, limits);
  assertPasswordPolicy(input.password, commonPasswords, email);
  // An address typed into a signup form proves nothing until Tokenward's email verification does.
  const user: User = { id: randomId(), email, emailVerified: false, name: input.name, createdAt: kernel.clock.now() };
  const hash = await kernel.hasher.hash(normalizePassword(input.password));
  if ((await kernel.store.createUser(user, hash)) === 'email_taken') throw new TokenwardError('email_taken');
  await kernel.recordEvent({
    type: 'user.signup',
    userId: user.id,
    ip: rc.ip,
    sessionId: null,
    userAgent: rc.userAgent,
  });
  return kernel.finishLogin(user, ['pwd'], rc, { detectNewDevice: false });
}
