import { z } from 'zod';
import { bool } from '../../kernel/config/option-types.js';
import { defineFeature, defineOptions } from '../feature.js';

const schema = z.object({ enabled: bool.default(false) }).strict();

/** The resolved `magicLink` slice. */
export interface MagicLinkConfig {
  enabled: boolean;
}

/**
 * Sign-in by a link mailed to the account's address (opt-in: `magicLink.enabled`, env
 * `TOKENWARD_MAGIC_LINK`): `POST /auth/magic-link` (the same answer and work for every address)
 * and `POST /auth/magic-link/verify`, which ends in the login pipeline like a password login
 * (an enrolled second factor is still asked: `{mfaRequired: true}`).
 */
export const magicLinkFeature = defineFeature({
  id: 'magic-link',
  options: defineOptions({
    key: 'magicLink',
    schema,
    env: { TOKENWARD_MAGIC_LINK: 'magicLink.enabled' },
    resolve: (parsed): MagicLinkConfig => ({ enabled: parsed?.enabled ?? false }),
  }),
  enabled: (config) => (config.magicLink as MagicLinkConfig | undefined)?.enabled === true,
  errors: ['invalid_request', 'invalid_link', 'too_many_attempts', 'account_disabled', 'csrf_rejected'],
  load: () => import('./module.js'),
});
