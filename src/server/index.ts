/** `tokenward/server`: the Hono-based auth server. */

export type { NewDeviceAlert, NewDeviceHook } from './account-security.js';
export type { ServerContext, SessionInfo, TokenwardEnv } from './context.js';
export { CookieJar, readCookie } from './cookies.js';
export {
  createTokenward,
  loadCommonPasswords,
  type Tokenward,
  type TokenwardDependencies,
} from './create-tokenward.js';
export { authenticateRequest, type RequireSessionOptions, requireSession } from './middleware/session.js';
export { type RequireStepUpOptions, requireStepUp } from './middleware/step-up.js';
