import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import { secretBackoff } from '../../kernel/limits/attempts.js';
import type { SecondFactor, StepUpMethod } from '../../kernel/login/factors.js';
import { parseBody, text } from '../../server/body-schema.js';
import type { FeatureModule } from '../feature.js';
import { totpEndpoints } from './endpoints.js';
import { TotpManager } from './totp-manager.js';

export const setup: FeatureModule['setup'] = async (ctx) => {
  const [sealKey, recoveryKey] = await Promise.all([
    ctx.deriveKey('seal', 'totp-secret'),
    ctx.deriveKey('hmac', 'recovery-codes'),
  ]);
  const totp = new TotpManager({
    store: ctx.store,
    limiter: ctx.limiter,
    clock: ctx.clock,
    sealKey,
    recoveryKey,
    issuer: ctx.config.publicHost,
    backoff: secretBackoff(ctx.config.limits),
  });
  const factor: SecondFactor = {
    id: 'totp',
    isEnrolled: async (userId) => TotpManager.isEnabled(await ctx.store.getCredentials(userId)),
  };
  /** `POST /auth/step-up {totp}`: a current code (once), counted by the per-user TOTP backoff. */
  const stepUp: StepUpMethod = {
    field: 'totp',
    amr: ['otp'],
    parse: (proof) => parseBody(z.object({ totp: text({ max: 16 }) }), { totp: proof }).totp,
    verify: async (user, proof) => {
      const result = await totp.verify(user.id, { code: String(proof) });
      if (result !== 'totp') throw new TokenwardError('invalid_code');
    },
  };
  return { endpoints: totpEndpoints(ctx, totp), factors: [factor], stepUpMethods: [stepUp] };
};
