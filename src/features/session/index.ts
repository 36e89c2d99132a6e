import { defineFeature } from '../feature.js';

/**
 * The browser session itself: refresh (rotation with reuse detection), logout, logout everywhere,
 * and `/me`. Always on.
 */
export const sessionFeature = defineFeature({
  id: 'session',
  enabled: () => true,
  errors: [
    'refresh_invalid',
    'refresh_reused',
    'session_expired',
    'account_disabled',
    'unauthenticated',
    'invalid_token',
    'csrf_rejected',
  ],
  load: async () => ({
    setup: async (ctx) => ({ endpoints: (await import('./endpoints.js')).sessionEndpoints(ctx) }),
  }),
});
