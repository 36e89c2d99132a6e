import { defineFeature } from '../feature.js';

/**
 * The token endpoint for native and first-party clients (`POST /auth/token`): a registry of
 * grants (RFC 6749 §4) that features register into, RFC 6749 §5 answers, DPoP-bound tokens.
 * Always on.
 */
export const oauthServerFeature = defineFeature({
  id: 'oauth-server',
  enabled: () => true,
  errors: [
    'invalid_request',
    'invalid_grant',
    'unsupported_grant_type',
    'invalid_dpop_proof',
    'use_dpop_nonce',
    'too_many_attempts',
    'account_disabled',
  ],
  load: async () => ({
    setup: async (ctx) => {
      const [{ tokenEndpoint }, { refreshTokenGrant }] = await Promise.all([
        import('./token-endpoint.js'),
        import('./grants/refresh-token.js'),
      ]);
      const grant = refreshTokenGrant(ctx);
      ctx.grants.set(grant.type, grant);
      return { endpoints: [tokenEndpoint(ctx, ctx.grants)] };
    },
  }),
});
