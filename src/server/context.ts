import type { CryptoKey } from 'jose';
import type { Logger } from 'pino';
import type { TokenwardConfig } from '../config.js';
import type { DpopVerifier } from '../features/dpop/dpop-verifier.js';
import type { AuthService, IssuedSession, RequestContext } from '../kernel/auth-service.js';
import type { KeyRing } from '../kernel/keys/key-ring.js';
import type { Clock, Limiter, RevocationBus, Store } from '../kernel/ports.js';
import type { AccessTokenClaims } from '../kernel/tokens/access-token.js';
import type { AccountSecurity } from './account-security.js';
import type { CookieJar } from './cookies.js';
import type { Metrics } from './metrics.js';

/** What route modules and middleware share. */
export interface ServerContext {
  config: TokenwardConfig;
  service: AuthService;
  store: Store;
  limiter: Limiter;
  bus: RevocationBus | null;
  keys: KeyRing;
  cookies: CookieJar;
  csrfKey: CryptoKey;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Step-up, TOTP, new-device alerts and session activity (keys derived from the server secret). */
  security: AccountSecurity;
  /** DPoP proof verification and server nonces (RFC 9449). */
  dpop: DpopVerifier;
}

/** The authenticated request, as seen by app routes behind `requireSession()`. */
export interface SessionInfo {
  userId: string;
  sessionId: string;
  claims: AccessTokenClaims;
  /** How the token arrived (`dpop`: `Authorization: DPoP` with a verified proof). */
  via: 'cookie' | 'bearer' | 'dpop';
}

/** Hono environment of Tokenward apps. */
export interface TokenwardEnv {
  Bindings: { incoming?: { socket?: { remoteAddress?: string } }; ip?: string };
  Variables: { tokenward: SessionInfo };
}

export type { IssuedSession, RequestContext };
