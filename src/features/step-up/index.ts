import { defineFeature } from '../feature.js';

/**
 * Step-up: `POST /auth/step-up` issues a single-use grant (5 minutes) after a fresh proof from
 * any registered method, and guarded routes (`tw.requireStepUp()`, `step-up` endpoints) consume
 * it with their first successful answer. Always on.
 */
export const stepUpFeature = defineFeature({
  id: 'step-up',
  enabled: () => true,
  errors: ['invalid_request', 'invalid_credentials', 'too_many_attempts', 'step_up_required'],
  load: async () => ({
    setup: async (ctx) => {
      const grantKey = await ctx.deriveKey('seal', 'step-up-grant');
      const [{ createStepUpGuard }, { stepUpEndpoints }] = await Promise.all([
        import('./step-up-guard.js'),
        import('./endpoints.js'),
      ]);
      ctx.stepUp = createStepUpGuard(ctx, grantKey);
      return { endpoints: stepUpEndpoints(ctx, grantKey) };
    },
  }),
});
