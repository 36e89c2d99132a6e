import { defineFeature } from '../feature.js';
import type { DpopPolicy } from './dpop-verifier.js';

/**
 * DPoP (RFC 9449): proof verification with single-use `jti` (shared limiter) and optional server
 * nonces, for the token endpoint and for DPoP-bound access tokens on protected routes. Always on
 * (a client opts in by sending proofs).
 */
export const dpopFeature = defineFeature({
  id: 'dpop',
  enabled: () => true,
  errors: ['invalid_dpop_proof', 'use_dpop_nonce', 'invalid_token'],
  load: async () => ({
    setup: async (ctx) => {
      const { DpopVerifier } = await import('./dpop-verifier.js');
      const policy = ctx.dependencies.dpop as DpopPolicy | undefined;
      ctx.dpop = new DpopVerifier({
        limiter: ctx.limiter,
        clock: ctx.clock,
        nonceKey: await ctx.deriveKey('hmac', 'dpop-nonce'),
        ...(policy ? { policy } : {}),
      });
      return {};
    },
  }),
});
