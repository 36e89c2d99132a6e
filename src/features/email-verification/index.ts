import { z } from 'zod';
import { bool } from '../../kernel/config/option-types.js';
import { defineFeature, defineOptions } from '../feature.js';

const schema = z
  .object({
    /** Unverified accounts cannot sign in (403 `email_unverified`, only after the password was right). */
    required: bool.default(false),
  })
  .strict();

/** The resolved `emailVerification` slice. */
export interface EmailVerificationConfig {
  required: boolean;
}

/**
 * Proving an address: the link mailed at signup (and on request), its confirmation, the login
 * gate `TOKENWARD_REQUIRE_EMAIL_VERIFICATION`, and changing the address (step-up; a link to the
 * new address confirmed through the same endpoint, a notice to the old one). Always on.
 */
export const emailVerificationFeature = defineFeature({
  id: 'email-verification',
  options: defineOptions({
    key: 'emailVerification',
    schema,
    env: { TOKENWARD_REQUIRE_EMAIL_VERIFICATION: 'emailVerification.required' },
    resolve: (parsed): EmailVerificationConfig => ({ required: parsed?.required ?? false }),
  }),
  enabled: () => true,
  errors: [
    'invalid_link',
    'invalid_request',
    'email_taken',
    'email_unverified',
    'step_up_required',
    'too_many_attempts',
    'csrf_rejected',
  ],
  load: () => import('./module.js'),
});
