import { TokenwardError } from '../../errors.js';
import type { LoginGate } from '../../kernel/login/factors.js';
import type { AuthEvent } from '../../kernel/ports.js';
import type { FeatureModule } from '../feature.js';
import { emailEndpoints } from './endpoints.js';
import type { EmailVerificationConfig } from './index.js';
import { sendVerificationLink } from './send-verification.js';

export const setup: FeatureModule['setup'] = (ctx) => {
  const { required } = ctx.config.emailVerification as EmailVerificationConfig;
  /**
   * `TOKENWARD_REQUIRE_EMAIL_VERIFICATION`: a gate of the login pipeline, so it runs only after the
   * first factor was proven. A wrong password answers 401 `invalid_credentials` exactly as for any
   * other account: only someone who knows the password learns that the address is unverified.
   */
  const gate: LoginGate = {
    id: 'email-verified',
    check: async (user) => {
      if (!user.emailVerified) throw new TokenwardError('email_unverified');
    },
  };

  /** A new account whose address nobody proved yet (a password signup) gets its verification link. */
  const onEvent = (event: AuthEvent): void => {
    if (event.type !== 'user.signup' || event.userId === null) return;
    const userId = event.userId;
    const deliver = async (): Promise<void> => {
      const user = await ctx.store.findUserById(userId);
      const credentials = user && !user.emailVerified ? await ctx.store.getCredentials(userId) : null;
      if (!user || !credentials) return;
      // Signup mails count against the address's budget like any other verification mail.
      if (!(await ctx.mailer?.admit('verify-email', user.email, event.ip ?? ''))?.allowed) return;
      await sendVerificationLink(ctx, user, credentials.passwordHash);
    };
    deliver().catch((error: unknown) =>
      ctx.logger.error({ err: (error as Error)?.message, userId }, 'could not queue the verification mail'),
    );
  };

  return { endpoints: emailEndpoints(ctx), loginGates: required ? [gate] : [], onEvent };
};
