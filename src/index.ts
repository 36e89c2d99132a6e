/**
 * Tokenward: HttpOnly-cookie JWT sessions with refresh rotation, reuse detection, CSRF defence
 * and server-side sessions.
 *
 * @example
 * ```ts
 * import { createTokenward } from 'tokenward';
 * import { serve } from '@hono/node-server';
 * const tw = await createTokenward({ publicOrigin: 'http://localhost:3000' });
 * tw.app.get('/api/profile', tw.requireSession(), (c) => c.json({ userId: c.get('tokenward').userId }));
 * serve({ fetch: tw.app.fetch, port: 3000 });
 * ```
 */
export { createTokenward, type Tokenward, type TokenwardDependencies } from './server/create-tokenward.js';
export type { SessionInfo, TokenwardEnv } from './server/context.js';
export type { NewDeviceAlert, NewDeviceHook } from './server/account-security.js';
export type { RequireStepUpOptions } from './server/middleware/step-up.js';
export { resolveConfig, parseDuration, type TokenwardConfig, type TokenwardOptions } from './config.js';
export { TokenwardError, ConfigError, ERRORS, type ErrorCode, type ProblemDetails } from './errors.js';
export type { Store, Limiter, RevocationBus, Clock, PasswordHasher, User, Session, AuthEvent, IdentityLink } from './core/ports.js';
export type { OidcConfig, OidcProviderConfig } from './oidc/options.js';
