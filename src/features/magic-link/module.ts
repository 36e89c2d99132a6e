import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import { text } from '../../server/body-schema.js';
import { defineEndpoint } from '../../server/define-endpoint.js';
import { loginResponse } from '../../server/login-response.js';
import type { FeatureModule } from '../feature.js';
import { EMAIL_LINK_AMR, limitLinkAttempts, mailLinkToAddress, redeemEmailLink } from '../mail/email-links.js';

export const setup: FeatureModule['setup'] = (ctx) => {
  // Login CSRF applies to both: a cross-site page must neither mail links nor sign a browser
  // into the attacker's account with the attacker's own link.
  const request = defineEndpoint(
    { method: 'POST', path: '/magic-link', guard: 'anonymous', body: z.object({ email: text({ max: 320 }) }) },
    async ({ c, body, rc }) => {
      await mailLinkToAddress(ctx, { kind: 'magic-link', template: 'magic-link', email: body.email }, rc);
      return c.json({}, 202);
    },
  );

  const verify = defineEndpoint(
    { method: 'POST', path: '/magic-link/verify', guard: 'anonymous', body: z.object({ token: text({ max: 512 }) }) },
    async ({ c, body, rc }) => {
      await limitLinkAttempts(ctx, rc);
      const link = await redeemEmailLink(ctx, ['magic-link'], body.token);
      if (link === null) throw new TokenwardError('invalid_link');
      let { user } = link;
      // The link reached the address: that proves it (also for the email-verification gate).
      if (
        !user.emailVerified &&
        user.disabledAt == null &&
        (await ctx.store.updateUser(user.id, { emailVerified: true }, { expectedEmail: user.email })) === 'ok'
      ) {
        user = { ...user, emailVerified: true };
        await ctx.kernel.recordEvent({
          type: 'email.verified',
          userId: user.id,
          ip: rc.ip,
          sessionId: null,
          userAgent: rc.userAgent,
        });
      }
      return loginResponse(ctx, c, await ctx.kernel.finishLogin(user, [...EMAIL_LINK_AMR], rc), rc);
    },
  );

  return { endpoints: [request, verify] };
};
