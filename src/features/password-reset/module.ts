import { z } from 'zod';
import { text } from '../../server/body-schema.js';
import { defineEndpoint } from '../../server/define-endpoint.js';
import { loginResponse } from '../../server/login-response.js';
import type { FeatureModule } from '../feature.js';
import { mailLinkToAddress } from '../mail/email-links.js';
import { loadCommonPasswords } from '../password/common-passwords.js';
import { resetPassword } from './reset-password.js';

export const setup: FeatureModule['setup'] = (ctx) => {
  const common = loadCommonPasswords();

  // Login CSRF applies to both: a cross-site page must not mail links nor sign a browser in.
  const forgot = defineEndpoint(
    { method: 'POST', path: '/password/forgot', guard: 'anonymous', body: z.object({ email: text({ max: 320 }) }) },
    async ({ c, body, rc }) => {
      await mailLinkToAddress(ctx, { kind: 'password-reset', template: 'reset-password', email: body.email }, rc);
      // One body for every address (API.md): nothing in the answer depends on the account.
      return c.json({}, 202);
    },
  );

  const reset = defineEndpoint(
    {
      method: 'POST',
      path: '/password/reset',
      guard: 'anonymous',
      body: z.object({ token: text({ max: 512 }), password: text({ max: 1024, allowControl: true }) }),
    },
    async ({ c, body, rc }) => loginResponse(ctx, c, await resetPassword(ctx, common, body, rc), rc),
  );

  return { endpoints: [forgot, reset] };
};
