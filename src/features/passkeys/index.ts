import { defineFeature, defineOptions } from '../feature.js';
import { passkeys } from './migrations/0008-passkeys.js';
import { type PasskeysConfig, passkeysOptionsSchema, resolvePasskeysConfig } from './options.js';

/**
 * Passkeys (WebAuthn): register, sign in with or without an email (discoverable credentials,
 * autofill), step up with one for exactly one call, and — with `requireMfa` — count as the
 * account's second factor. On wherever browsers offer WebAuthn (a secure origin on a domain
 * name); `@simplewebauthn/server` loads at the first passkey request. See docs/passkeys.md.
 */
export const passkeysFeature = defineFeature({
  id: 'passkeys',
  options: defineOptions({
    key: 'passkeys',
    schema: passkeysOptionsSchema,
    env: {
      TOKENWARD_PASSKEYS: 'passkeys.enabled',
      TOKENWARD_PASSKEYS_RP_ID: 'passkeys.rpId',
      TOKENWARD_PASSKEYS_RP_NAME: 'passkeys.rpName',
      TOKENWARD_PASSKEYS_ORIGINS: 'passkeys.origins',
    },
    resolve: resolvePasskeysConfig,
  }),
  enabled: (config) => (config.passkeys as PasskeysConfig | undefined)?.enabled === true,
  errors: [
    'invalid_request',
    'invalid_passkey',
    'invalid_credentials',
    'not_found',
    'step_up_required',
    'too_many_attempts',
    'mfa_pending_invalid',
    'mfa_enrollment_required',
    'last_second_factor',
  ],
  migrations: { '0008-passkeys': passkeys },
  load: () => import('./module.js'),
});
