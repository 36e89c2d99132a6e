import type { CryptoKey } from 'jose';
import type { KernelConfig } from './config/kernel-config.js';
import type { KeyRing } from './keys/key-ring.js';
import type { LoginGate, SecondFactor } from './login/factors.js';
import type { AuthEvent, Clock, Limiter, PasswordHasher, RevocationBus, Session, Store, User } from './ports.js';
import type { RevocationList } from './sessions/revocation-list.js';
import type { VerifiedTokenCache } from './tokens/verified-token-cache.js';

/** The policy values the kernel reads (a slice of the resolved configuration). */
export type KernelPolicy = Pick<
  KernelConfig,
  'accessTtlSec' | 'refreshGraceSec' | 'refreshIdleSec' | 'refreshAbsoluteSec' | 'limits' | 'requireMfa'
> & {
  issuer: string;
  audience: string;
  /** RFC 9068 §2.2 `client_id` of cookie sessions: the browser client (see tokens/client-id.ts). */
  browserClientId: string;
};

/** Everything the kernel's operations work with: ports, keys, caches and policy. */
export interface KernelDeps {
  store: Store;
  limiter: Limiter;
  bus: RevocationBus | null;
  hasher: PasswordHasher;
  keys: KeyRing;
  revocations: RevocationList;
  cache: VerifiedTokenCache;
  clock: Clock;
  policy: KernelPolicy;
  csrfKey: CryptoKey;
  /** HMAC key refresh tokens carry their session and generation under (refresh/refresh-token.ts). */
  refreshKey: CryptoKey;
  /** Digest of a token string for the verified-token cache (sync, fast). */
  cacheKey: (token: string) => string;
  /** Called with each recorded event (logging, metrics, hooks); must not throw. */
  onEvent?: ((event: AuthEvent) => void) | undefined;
  /** Describes a user agent for events ("Chrome on macOS"). */
  describeDevice?: ((userAgent: string) => string) | undefined;
  /** Called after a session from a device the user never used starts; must not throw or block. */
  onNewDevice?: ((user: User, session: Session) => void) | undefined;
  /** Second factors and login gates registered by the features. */
  factors: SecondFactor[];
  gates: LoginGate[];
  /** The key-ring version the verified-token cache was filled under (cleared when keys change). */
  cacheState: { version: number };
}
