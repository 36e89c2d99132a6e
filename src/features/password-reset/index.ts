import { defineFeature } from '../feature.js';

/**
 * Forgotten passwords: `POST /auth/password/forgot` mails a reset link (the same answer and work
 * for every address), `POST /auth/password/reset` sets the new password, ends every session and
 * signs in on this device (through the login pipeline: a second factor is still asked). Always on.
 */
export const passwordResetFeature = defineFeature({
  id: 'password-reset',
  enabled: () => true,
  errors: [
    'invalid_request',
    'invalid_link',
    'weak_password',
    'too_many_attempts',
    'account_disabled',
    'email_unverified',
    'csrf_rejected',
  ],
  load: () => import('./module.js'),
});
