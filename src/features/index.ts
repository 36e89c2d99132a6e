import { accountFeature } from './account/index.js';
import { browserCheckFeature } from './browser-check/index.js';
import { dpopFeature } from './dpop/index.js';
import { emailVerificationFeature } from './email-verification/index.js';
import type { Feature } from './feature.js';
import { magicLinkFeature } from './magic-link/index.js';
import { mailFeature } from './mail/index.js';
import { oauthServerFeature } from './oauth-server/index.js';
import { oidcLoginFeature } from './oidc-login/index.js';
import { operationsFeature } from './operations/index.js';
import { passkeysFeature } from './passkeys/index.js';
import { passwordFeature } from './password/index.js';
import { passwordResetFeature } from './password-reset/index.js';
import { sessionFeature } from './session/index.js';
import { sessionsUiFeature } from './sessions-ui/index.js';
import { stepUpFeature } from './step-up/index.js';
import { totpFeature } from './totp/index.js';

/**
 * Every capability, in mount order. Adding one is adding a folder and a line here: its options,
 * migrations, endpoints, factors and gates come with it (see feature.ts).
 */
export const FEATURES = [
  mailFeature,
  passwordFeature,
  sessionFeature,
  operationsFeature,
  sessionsUiFeature,
  stepUpFeature,
  totpFeature,
  passkeysFeature,
  dpopFeature,
  oauthServerFeature,
  oidcLoginFeature,
  browserCheckFeature,
  emailVerificationFeature,
  passwordResetFeature,
  magicLinkFeature,
  accountFeature,
] as const satisfies readonly Feature[];
