import { z } from 'zod';
import type { StepUpMethod } from '../../kernel/login/factors.js';
import { parseBody, text } from '../../server/body-schema.js';
import type { FeatureModule } from '../feature.js';
import { confirmPassword } from './confirm-password.js';
import { passwordEndpoints } from './endpoints.js';
import { passwordGrant } from './password-grant.js';

export const setup: FeatureModule['setup'] = (ctx) => {
  const limits = ctx.config.limits;
  /** `POST /auth/step-up {password}`: the account's password, counted by its login backoff. */
  const stepUp: StepUpMethod = {
    field: 'password',
    amr: ['pwd'],
    parse: (proof) =>
      parseBody(z.object({ password: text({ max: 1024, allowControl: true }) }), { password: proof }).password,
    verify: async (user, proof) => {
      await confirmPassword(
        { store: ctx.store, hasher: ctx.kernel.hasher, limiter: ctx.limiter, limits },
        user,
        proof as string,
      );
    },
  };
  const grant = passwordGrant(ctx);
  ctx.grants.set(grant.type, grant);
  return { endpoints: passwordEndpoints(ctx), stepUpMethods: [stepUp] };
};
