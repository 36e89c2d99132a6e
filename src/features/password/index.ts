import { defineFeature } from '../feature.js';

/** Email + password accounts: signup, login, password change, and the password as a step-up method. Always on. */
export const passwordFeature = defineFeature({
  id: 'password',
  enabled: () => true,
  errors: [
    'invalid_request',
    'email_taken',
    'weak_password',
    'invalid_credentials',
    'too_many_attempts',
    'csrf_rejected',
    'account_disabled',
    'email_unverified',
  ],
  load: () => import('./module.js'),
});
