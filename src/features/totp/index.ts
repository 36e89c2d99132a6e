import { defineFeature } from '../feature.js';

/**
 * TOTP (RFC 6238 authenticator apps) with recovery codes: enrolment, the second login step, a
 * step-up method. Always on (it costs nothing until a user enrols; `qrcode` loads with it).
 */
export const totpFeature = defineFeature({
  id: 'totp',
  enabled: () => true,
  errors: [
    'invalid_code',
    'totp_already_enabled',
    'mfa_pending_invalid',
    'step_up_required',
    'too_many_attempts',
    'invalid_request',
    'account_disabled',
  ],
  load: () => import('./module.js'),
});
