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

export { parseDuration, resolveConfig, type TokenwardConfig, type TokenwardOptions } from './config.js';
export { createTokenward, type Tokenward, type TokenwardDependencies } from './create-tokenward.js';
export { ConfigError, ERRORS, type ErrorCode, type ProblemDetails, TokenwardError } from './errors.js';
export type { MailConfig } from './features/mail/options.js';
export type { MailTemplate } from './features/mail/templates.js';
export type { OidcConfig, OidcProviderConfig } from './features/oidc-login/options.js';
export type {
  AuthEvent,
  Clock,
  IdentityLink,
  Limiter,
  Mailer,
  OutgoingMail,
  PasswordHasher,
  RevocationBus,
  Session,
  Store,
  User,
} from './kernel/ports.js';
export type { NewDeviceAlert, NewDeviceHook } from './kernel/sessions/new-device-alert.js';
export type { KeptMail, MailRequest, MailSender, MailTemplateId, SessionInfo, TokenwardEnv } from './server/context.js';
export type { RequireStepUpOptions } from './server/middleware/require-step-up.js';
