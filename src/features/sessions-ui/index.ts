import { defineFeature } from '../feature.js';

/**
 * What a user sees and ends: the sessions list, revoking one or all others, the audit trail, and
 * the new-device alert with its single-use "this wasn't me" link (handed to the application's
 * `onNewDevice` hook, or mailed when there is none). Always on.
 */
export const sessionsUiFeature = defineFeature({
  id: 'sessions-ui',
  enabled: () => true,
  errors: ['not_found', 'invalid_link', 'invalid_request', 'unauthenticated', 'invalid_token'],
  load: async () => ({
    setup: async (ctx) => {
      const notMeKey = await ctx.deriveKey('hmac', 'not-me-link');
      const [{ sessionsUiEndpoints }, { eventsEndpoint }, { newDeviceAlerter }, { mailNewDeviceAlert }] =
        await Promise.all([
          import('./endpoints.js'),
          import('./events-endpoint.js'),
          import('./new-device-alert.js'),
          import('./mail-alert.js'),
        ]);
      const hook = ctx.dependencies.onNewDevice;
      // The application's hook when it gave one; else Tokenward mails the alert itself.
      const onNewDevice = hook
        ? newDeviceAlerter(ctx, notMeKey, hook)
        : ctx.mailer
          ? mailNewDeviceAlert(ctx, ctx.mailer, notMeKey)
          : undefined;
      return {
        endpoints: [...sessionsUiEndpoints(ctx, notMeKey), eventsEndpoint(ctx)],
        ...(onNewDevice ? { onNewDevice } : {}),
      };
    },
  }),
});
