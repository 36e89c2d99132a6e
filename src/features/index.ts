import { browserCheckFeature } from './browser-check/index.js';
import { dpopFeature } from './dpop/index.js';
import type { Feature } from './feature.js';
import { oauthServerFeature } from './oauth-server/index.js';
import { oidcLoginFeature } from './oidc-login/index.js';
import { operationsFeature } from './operations/index.js';
import { passkeysFeature } from './passkeys/index.js';
import { passwordFeature } from './password/index.js';
import { sessionFeature } from './session/index.js';
import { sessionsUiFeature } from './sessions-ui/index.js';
import { stepUpFeature } from './step-up/index.js';
import { totpFeature } from './totp/index.js';

/**
 * Every capability, in mount order. Adding one is adding a folder and a line here: its options,
 * migrations, endpoints, factors and gates come with it (see feature.ts).
 */
export const FEATURES = [
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
] as const satisfies readonly Feature[];
