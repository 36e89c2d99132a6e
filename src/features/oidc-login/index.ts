import { defineFeature, defineOptions } from '../feature.js';
import { federatedIdentities } from './migrations/0002-federated-identities.js';
import { type OidcConfig, oidcOptionsSchema, resolveOidcConfig } from './options.js';

/**
 * Backend-driven OpenID Connect login (PKCE, state and nonce in a sealed cookie), with account
 * linking only between proven addresses. On when `oidc.providers` names at least one provider;
 * `openid-client` is loaded only then.
 */
export const oidcLoginFeature = defineFeature({
  id: 'oidc-login',
  options: defineOptions({
    key: 'oidc',
    schema: oidcOptionsSchema,
    env: { TOKENWARD_OIDC_PROVIDERS: 'oidc.providers' },
    resolve: (parsed): OidcConfig => resolveOidcConfig(parsed),
  }),
  enabled: (config) => Object.keys((config.oidc as OidcConfig | undefined)?.providers ?? {}).length > 0,
  errors: ['not_found', 'invalid_return_to', 'oidc_state_mismatch', 'oidc_provider_error', 'too_many_attempts'],
  migrations: { '0002-federated-identities': federatedIdentities },
  load: async () => ({
    setup: async (ctx) => ({ endpoints: (await import('./endpoints.js')).oidcEndpoints(ctx) }),
  }),
});
