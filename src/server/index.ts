/** `tokenward/server`: the Hono-based auth server. */

export {
  createTokenward,
  loadCommonPasswords,
  type Tokenward,
  type TokenwardDependencies,
} from '../create-tokenward.js';
export { type RequireStepUpOptions, requireStepUp } from '../features/step-up/require-step-up.js';
export type { NewDeviceAlert, NewDeviceHook } from './account-security.js';
export type { ServerContext, SessionInfo, TokenwardEnv } from './context.js';
export { CookieJar, readCookie } from './cookies.js';
export { authenticateRequest, type RequireSessionOptions, requireSession } from './middleware/session.js';
