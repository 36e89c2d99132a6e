/**
 * Ports: the only way the kernel touches the world. Implementations live in `src/store`
 * (SQLite, PostgreSQL, memory), `src/limiter` and `src/bus` (Redis or in-process) and `src/hasher`.
 * All times are epoch milliseconds.
 */

/** Source of the current time; tests freeze it. */
export interface Clock {
  now(): number;
}

export interface User {
  id: string;
  /** Lowercase, trimmed. */
  email: string;
  /**
   * The holder has proven the address: Tokenward's own email verification, or a signup through a
   * federated identity whose provider asserted `email_verified: true`. A password signup is
   * unverified. Linking by email needs it (pre-account hijacking, docs/oidc.md).
   */
  emailVerified: boolean;
  name: string | null;
  createdAt: number;
  /**
   * When an administrator disabled the account (`tokenward users disable`): no login, refresh or
   * token request succeeds until it is enabled again. Absent (or null): the account is active —
   * the stores set it only on a disabled account.
   */
  disabledAt?: number | null;
}

/** What {@link Store.updateUser} may change. */
export interface UserChanges {
  /** A new (lowercase, trimmed) address: unique like at signup. */
  email?: string;
  emailVerified?: boolean;
  /** A time disables the account; null enables it. */
  disabledAt?: number | null;
}

export interface Credentials {
  userId: string;
  passwordHash: string;
  /** TOTP secret sealed with the server secret, or null. */
  totpSecretSealed: string | null;
  totpConfirmedAt: number | null;
  /** Last accepted TOTP time step (replay protection). */
  totpLastStep: number | null;
}

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'refresh_reuse'
  | 'revoked_by_user'
  | 'revoke_others'
  | 'session_limit'
  | 'password_change'
  | 'admin'
  | 'not_me'
  | 'password_reset'
  | 'account_disabled'
  | 'account_deleted';

export interface Session {
  id: string;
  userId: string;
  createdAt: number;
  lastActiveAt: number;
  /** When the refresh chain dies without use. Moves forward on every rotation. */
  idleExpiresAt: number;
  /** When the refresh chain dies at the latest. Never moves. */
  absoluteExpiresAt: number;
  /** Time of the primary authentication (JWT `auth_time`). */
  authTime: number;
  /** Authentication methods (JWT `amr`), e.g. `["pwd"]`. */
  amr: string[];
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
  ip: string;
  userAgent: string;
  deviceId: string | null;
  newDevice: boolean;
  /** DPoP key thumbprint the session is bound to, if any. */
  dpopJkt: string | null;
  /**
   * The OAuth client the session was issued to (RFC 9068 §2.2 `client_id` of its access tokens):
   * the browser client for cookie sessions, the requesting client for `/auth/token`. Kept for the
   * session's life, so every refresh issues tokens for the same client. Null for sessions started
   * before migration 0003 (their tokens name the client of the transport that refreshes them).
   */
  clientId: string | null;
}

/**
 * An external identity (OpenID Connect `iss` + `sub`) linked to a local user. The pair is
 * unique: one identity belongs to at most one user; a user may have several identities.
 */
export interface IdentityLink {
  /** The provider's issuer identifier (the ID token's `iss`). */
  issuer: string;
  /** The provider's stable subject identifier (the ID token's `sub`). */
  subject: string;
  userId: string;
  /** The email the provider asserted when the link was made (informational; never used to match). */
  email: string | null;
  createdAt: number;
}

export interface AuthEvent {
  id: string;
  userId: string | null;
  type: string;
  at: number;
  ip: string | null;
  sessionId: string | null;
  /** Readable device label, e.g. "Chrome on macOS". */
  device: string | null;
  data: Record<string, unknown> | null;
}

export type SigningKeyState = 'next' | 'current' | 'retiring' | 'retired';

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  state: SigningKeyState;
  /** Public JWK as JSON text. */
  publicJwk: string;
  /** Private JWK sealed with the server secret. */
  privateJwkSealed: string;
  createdAt: number;
  /** When the state last changed. */
  updatedAt: number;
}

/** What happened to a presented refresh token, decided in one transaction (kernel/refresh/decide-rotation.ts). */
export type RotateOutcome =
  /** Rotated (`retry`: the previous token again, from its device, after a lost response): the successor passed in is now current. */
  | { kind: 'rotated'; session: Session; retry: boolean }
  /** The previous token again, within the grace window, from the device that rotated it: the same successor (sealed). */
  | { kind: 'grace'; session: Session; successorSealed: string }
  /** An earlier token from elsewhere, too old, or superseded: the session was revoked (and a revocation + event recorded). */
  | { kind: 'reused'; session: Session }
  /** The session is revoked, idle-expired or past its absolute lifetime. */
  | { kind: 'expired'; session: Session }
  /** No such session (or a token this store never issued). */
  | { kind: 'invalid' }
  /** The session is DPoP-bound to another key than the request's proof (nothing changed). */
  | { kind: 'binding_mismatch' };

/** A presented refresh token and the successor that replaces it if it rotates. */
export interface RotateInput {
  sessionId: string;
  /** The generation the presented token names (0: a legacy token found by its hash). */
  generation: number;
  /** SHA-256 of the presented token. */
  presentedHash: string;
  /** SHA-256 of the successor (a token of generation `generation + 1`). */
  successorHash: string;
  /** The successor sealed with a key derived from the presented token: only its holder reads it back (grace). */
  successorSealed: string;
  now: number;
  graceMs: number;
  idleMs: number;
  /**
   * A digest identifying the presenting device: SHA-256 of its device id (cookie clients) or of
   * its DPoP key thumbprint (native clients), computed by the caller; never the raw device id.
   * Stored with the rotation; only the same presenter (compared in constant time) gets the grace
   * successor or a retry. Null (no device identity) never does.
   */
  presenter: string | null;
  /**
   * Key of the request's verified DPoP proof (null: no proof). A session bound to a key rotates
   * only with it; an unbound session refreshed with a proof becomes bound to it (RFC 9449 §5).
   */
  proofJkt: string | null;
  /** Event recorded when reuse is detected (ip/device of the presenter). */
  reuseEvent: Omit<AuthEvent, 'userId' | 'sessionId'>;
}

export interface CreateSessionInput {
  session: Session;
  /** SHA-256 of the session's first refresh token (generation 1). */
  refreshHash: string;
  /** Revoke the least recently active sessions so that at most this many stay active. */
  maxSessions: number;
}

export interface EventPage {
  events: AuthEvent[];
  /** Pass as `before` to get the next (older) page; null at the end. */
  nextCursor: string | null;
}

/** A page of users for administration (`tokenward users list`). */
export interface UserPage {
  users: User[];
  /** Pass as `after` to get the next page; null at the end. */
  nextCursor: string | null;
}

/** Options of {@link Store.listUsers}. */
export interface ListUsersOptions {
  /** Page size (at least 1). */
  limit: number;
  /** A cursor from a previous page: users after it. */
  after?: string | undefined;
  /** Only users whose email contains this text (case-insensitive). */
  emailContains?: string | undefined;
}

/** What {@link Store.deleteUser} needs. */
export interface DeleteUserInput {
  userId: string;
  at: number;
  /** Event types kept (anonymised) for security; every other event of the user is deleted. */
  keepEventTypes: readonly string[];
  /** Recorded in the same transaction (`account.deleted`, no user id). */
  event: AuthEvent;
}

/** Durable state: users, sessions, refresh tokens, events, signing keys, revocations. */
export interface Store {
  /** `'email_taken'` when the (lowercase) email exists already. */
  createUser(user: User, passwordHash: string): Promise<'ok' | 'email_taken'>;
  findUserByEmail(email: string): Promise<User | null>;
  findUserById(id: string): Promise<User | null>;
  /**
   * Changes fields of a user in one statement. With `expectedEmail`, only while the address is
   * still that one (case-insensitive): a link issued for one address never applies to another.
   * `'email_taken'` when the new email belongs to another user (nothing changes); `'not_found'`
   * when the user is unknown or the expected address no longer matches.
   */
  updateUser(
    userId: string,
    changes: UserChanges,
    options?: { expectedEmail?: string },
  ): Promise<'ok' | 'email_taken' | 'not_found'>;
  /**
   * Deletes a user and everything that belongs to them in one transaction: credentials, sessions
   * and their refresh tokens (the active ones are first recorded as revoked, so every node drops
   * their access tokens), identity links, artifacts and feature rows that reference the user.
   * Events whose type is in `keepEventTypes` stay, anonymised (no user, session or data); the
   * user's other events are deleted. `event` (with `userId: null`) is recorded in the same
   * transaction. Returns the ids of the sessions that were active at `at`, or null for an unknown user.
   */
  deleteUser(input: DeleteUserInput): Promise<string[] | null>;
  /** Users ordered by email (byte order), for administration (`tokenward users list`). */
  listUsers(options: ListUsersOptions): Promise<UserPage>;
  getCredentials(userId: string): Promise<Credentials | null>;
  setPasswordHash(userId: string, passwordHash: string): Promise<void>;
  setTotp(
    userId: string,
    fields: Partial<Pick<Credentials, 'totpSecretSealed' | 'totpConfirmedAt' | 'totpLastStep'>>,
  ): Promise<void>;
  /**
   * Atomically advances the last accepted TOTP step: true only if `step` is greater than the
   * stored one (so a code is accepted once).
   */
  claimTotpStep(userId: string, step: number): Promise<boolean>;

  /** Inserts a session and its first refresh token; evicts beyond `maxSessions`. Returns evicted ids. */
  createSession(input: CreateSessionInput): Promise<{ evicted: string[] }>;
  getSession(id: string): Promise<Session | null>;
  /**
   * The session a legacy refresh token (one issued before the constant-space format, found by its
   * hash) belongs to, or null. Current tokens name their session themselves.
   */
  findSessionByRefreshHash(hash: string): Promise<Session | null>;
  /** Sessions of a user that are neither revoked nor expired at `now`, most recently active first. */
  listActiveSessions(userId: string, now: number): Promise<Session[]>;
  /**
   * Every stored session of a user (active, revoked or expired, until pruned), newest first
   * (`created_at`, then id), at most `limit`. For administration (`tokenward sessions list`).
   */
  listUserSessions(userId: string, options: { limit: number }): Promise<Session[]>;
  /** Sets `last_active_at` (callers throttle). */
  touchSession(id: string, at: number): Promise<void>;
  /** Revokes one session if active; returns it (null if unknown or already revoked). Records a revocation row. */
  revokeSession(id: string, at: number, reason: RevokeReason): Promise<Session | null>;
  /** Revokes every active session of a user except `exceptId`; returns the revoked ids. */
  revokeUserSessions(userId: string, at: number, reason: RevokeReason, exceptId?: string): Promise<string[]>;
  /**
   * One transaction: rotate, replay within grace to the same presenter, or detect reuse. Never
   * two successors, and never the successor to another presenter.
   */
  rotateRefreshToken(input: RotateInput): Promise<RotateOutcome>;
  /** Revocations recorded at or after `since` (for polling nodes), oldest first. */
  listRevocationsSince(since: number): Promise<Array<{ sessionId: string; at: number }>>;

  recordEvent(event: AuthEvent): Promise<void>;
  /** The user's events, newest first; `before` is a cursor from a previous page. */
  listEvents(userId: string, options: { limit: number; before?: string | undefined }): Promise<EventPage>;
  /**
   * Deletes events, revocations and sessions (revoked or past their absolute lifetime) older than
   * `before`, in small bounded batches that yield between them (never one long block of the event
   * loop or the database; through indexes, so nothing is scanned when nothing is due). Returns rows deleted.
   */
  prune(before: number): Promise<number>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts a key; false if a key in state `current` already exists and `key.state` is `current` (another node won). */
  insertSigningKey(key: SigningKeyRecord): Promise<boolean>;
  setSigningKeyState(kid: string, state: SigningKeyState, at: number): Promise<void>;

  /** The user an external identity (issuer + subject) is linked to, or null. */
  findUserByIdentity(issuer: string, subject: string): Promise<User | null>;
  /** Links an external identity to an existing user; `'identity_taken'` when it is linked already (to anyone). */
  linkIdentity(link: IdentityLink): Promise<'ok' | 'identity_taken'>;
  /**
   * Creates a user, its credentials row and its first identity link in one transaction
   * (a federated signup): nothing is written when the email or the identity is taken.
   */
  createUserWithIdentity(
    user: User,
    passwordHash: string,
    link: IdentityLink,
  ): Promise<'ok' | 'email_taken' | 'identity_taken'>;

  /** Throws when the store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface LimitResult {
  allowed: boolean;
  /** Whole seconds until a retry can succeed (≥ 1 when not allowed). */
  retryAfterSec: number;
}

export interface BackoffPolicy {
  /** Failures allowed before backoff starts. */
  freeFailures: number;
  baseSec: number;
  maxSec: number;
}

/**
 * An attempt at a secret check, counted before the secret is verified: either refused (the key
 * backs off) or reserved. Every reserved attempt counts as a failure until it is reported as a
 * success, so a burst of concurrent attempts can never evaluate more than the policy allows.
 */
export type AttemptReservation =
  | { allowed: false; retryAfterSec: number }
  | {
      allowed: true;
      /**
       * The secret was right: forget the attempts reserved up to and including this one (those
       * reserved after it stay counted) and lift the backoff if fewer than the free failures remain.
       */
      succeeded(): Promise<void>;
    };

/** Shared counters: fixed windows, exponential backoff, single-use claims. */
export interface Limiter {
  /** Counts one hit against `limit` per `windowSec`. */
  consume(key: string, limit: number, windowSec: number): Promise<LimitResult>;
  /**
   * Reserves one attempt at a secret check under `key`, in one atomic counter operation: refused
   * while the key backs off; otherwise counted (as a failure, until `succeeded()`), and once the
   * count reaches `freeFailures` the key backs off (doubling) before any later attempt is reserved.
   */
  reserveAttempt(key: string, policy: BackoffPolicy): Promise<AttemptReservation>;
  /** Whether `key` is currently backing off. Does not count anything. */
  backoffStatus(key: string): Promise<LimitResult>;
  /** True for the first claim of `key` within `ttlSec`, false afterwards (replay caches). */
  claimOnce(key: string, ttlSec: number): Promise<boolean>;
  /**
   * Gives a claim back (e.g. a step-up grant whose guarded request failed), so the next
   * `claimOnce(key)` succeeds again.
   */
  releaseClaim(key: string): Promise<void>;
  /** 'ok', or 'degraded' when a shared backend is unreachable and the limiter fell back to local counting. */
  health(): 'ok' | 'degraded';
  close(): Promise<void>;
}

/** Fan-out of revoked session ids between nodes. */
export interface RevocationBus {
  publish(revocations: Array<{ sessionId: string; at: number }>): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(handler: (revocations: Array<{ sessionId: string; at: number }>) => void): () => void;
  health(): 'ok' | 'degraded';
  close(): Promise<void>;
}

/** Password hashing (argon2id); runs off the event loop. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters than the current ones (upgrade on login). */
  needsRehash(hash: string): boolean;
  /** A valid hash of a random password: verified against when the user is unknown, so timing matches. */
  dummyHash(): Promise<string>;
}

/**
 * A short-lived, single-use record: an email link (verification, reset, magic link, email
 * change), an OAuth authorization code, a WebAuthn or DBSC challenge. Only the SHA-256 of its
 * secret is stored (a database dump yields no usable link).
 */
export interface Artifact {
  /** What it is for (`email-verify`, `password-reset`, `oauth-code`, …): a link of one kind never works as another. */
  kind: string;
  /** SHA-256 (base64url) of the secret the holder presents. Unique. */
  hash: string;
  userId: string | null;
  sessionId: string | null;
  /** Kind-specific fields (e.g. the PKCE challenge and redirect URI of an OAuth code). */
  data: Record<string, unknown> | null;
  createdAt: number;
  expiresAt: number;
  /** Set once, by the one `consume` that wins. */
  consumedAt: number | null;
}

/** The artifacts table: one generic store for every single-use record (see {@link Artifact}). */
export interface ArtifactStore {
  /** Stores a new artifact (a hash collision is a bug: it throws). */
  put(artifact: Omit<Artifact, 'consumedAt'>): Promise<void>;
  /**
   * Consumes an artifact in one atomic statement: only an unconsumed, unexpired artifact of this
   * kind. Of any number of concurrent callers (on any node), exactly one receives it; the others,
   * and every later caller, get null.
   */
  consume(kind: string, hash: string, now: number): Promise<Artifact | null>;
  /** Reads an artifact without consuming it (null when unknown or of another kind). */
  find(kind: string, hash: string): Promise<Artifact | null>;
  /** Deletes a user's artifacts (of the given kinds, or all): links die when the password or email changes. */
  deleteForUser(userId: string, kinds?: readonly string[]): Promise<number>;
  /** Deletes artifacts that expired before `before`. */
  prune(before: number): Promise<number>;
}

/** One mail, rendered: multipart text + HTML (API.md "Mail"). */
export interface OutgoingMail {
  /** The recipient's address. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A mail transport: SMTP (nodemailer) or the in-process outbox. `send` resolves once the
 * transport accepted the mail and throws when it did not; an error with `permanent: true`
 * (the server refused the message or its recipient, a 5xx) is never worth retrying. Callers do
 * not use it directly: the mail feature queues, retries and counts (`ctx.mailer`).
 */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}
