/** `tokenward/server`: the Hono-based auth server. */

export {
  createTokenward,
  loadCommonPasswords,
  type Tokenward,
  type TokenwardDependencies,
} from '../create-tokenward.js';
export type { NewDeviceAlert, NewDeviceHook } from '../kernel/sessions/new-device-alert.js';
export type { ServerContext, SessionInfo, TokenwardEnv } from './context.js';
export { CookieJar, readCookie } from './cookies.js';
export { type RequireStepUpOptions, requireStepUp } from './middleware/require-step-up.js';
export { authenticateRequest, type RequireSessionOptions, requireSession } from './middleware/session.js';
