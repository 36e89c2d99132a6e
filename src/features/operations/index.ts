import { defineFeature } from '../feature.js';

/** JWKS for other services, the revocation feed, health and metrics. Always on. */
export const operationsFeature = defineFeature({
  id: 'operations',
  enabled: () => true,
  errors: ['service_unavailable', 'unauthenticated', 'not_found', 'invalid_request'],
  load: async () => ({
    setup: async (ctx) => ({ endpoints: (await import('./endpoints.js')).operationEndpoints(ctx) }),
  }),
});
