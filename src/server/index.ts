/** `tokenward/server`: the Hono-based auth server. */
export { createTokenward, loadCommonPasswords, type Tokenward, type TokenwardDependencies } from './create-tokenward.js';
export type { ServerContext, SessionInfo, TokenwardEnv } from './context.js';
export { requireSession, authenticateRequest, type RequireSessionOptions } from './middleware/session.js';
export { requireStepUp, type RequireStepUpOptions } from './middleware/step-up.js';
export type { NewDeviceAlert, NewDeviceHook } from './account-security.js';
export { CookieJar, readCookie } from './cookies.js';
