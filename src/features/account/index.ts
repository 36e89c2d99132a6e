import { defineFeature } from '../feature.js';

/**
 * The account itself: `GET /auth/account/export` (the user's own data, no secret or hash) and
 * `DELETE /auth/account` (step-up; the user and everything of theirs in one transaction, every
 * session ended on every node). Disabling is an administrator's (`tokenward users disable`),
 * enforced by the kernel. Always on.
 */
export const accountFeature = defineFeature({
  id: 'account',
  enabled: () => true,
  errors: ['unauthenticated', 'invalid_token', 'step_up_required', 'csrf_rejected'],
  load: () => import('./module.js'),
});
