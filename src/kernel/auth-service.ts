import type { CryptoKey } from 'jose';
import { TokenwardError } from '../errors.js';
import { checkPasswordPolicy, normalizePassword } from '../features/password/password-policy.js';
import { randomId, randomToken, sha256 } from './crypto/encoding.js';
import { openUnder, sealUnder } from './crypto/seal.js';
import { createCsrfToken } from './csrf.js';
import type { KeyRing } from './keys/key-ring.js';
import { enforceIpLimit, passwordBackoffKey, reserveSecretAttempt, secretBackoff } from './limits/attempts.js';
import type {
  AuthEvent,
  Clock,
  Limiter,
  PasswordHasher,
  RevocationBus,
  RevokeReason,
  Session,
  Store,
  User,
} from './ports.js';
import { deviceMarkers, isKnownDevice } from './sessions/device.js';
import type { RevocationList } from './sessions/revocation-list.js';
import { type AccessTokenClaims, verifyAccessToken } from './tokens/access-token.js';
import { signAccessTokenFast } from './tokens/sign-access-token.js';
import type { VerifiedTokenCache } from './tokens/verified-token-cache.js';

/** Policy values the service needs (a slice of the resolved config). */
export interface AuthPolicy {
  issuer: string;
  audience: string;
  /** RFC 9068 §2.2 `client_id` of cookie sessions: the browser client (see core/client-id.ts). */
  browserClientId: string;
  accessTtlSec: number;
  refreshGraceSec: number;
  refreshIdleSec: number;
  refreshAbsoluteSec: number;
  limits: {
    loginPerAccount: number;
    loginBackoffMaxSec: number;
    loginPerIp: { count: number; windowSec: number };
    signupPerIp: { count: number; windowSec: number };
    concurrentSessions: number;
    ipv6Prefix: number;
    ipv6WidePrefix: number | null;
  };
}

/** Where a request comes from (for limits, events and the sessions list). */
export interface RequestContext {
  ip: string;
  userAgent: string;
  deviceId: string | null;
  /**
   * The OAuth client a session started by this request is issued to (`/auth/token`: the
   * request's `client_id`); absent for the browser transport, whose sessions belong to
   * {@link AuthPolicy.browserClientId}.
   */
  clientId?: string;
}

/** Everything a transport needs to deliver a session to a browser or a native client. */
export interface IssuedSession {
  user: User;
  session: Session;
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  csrfToken: string;
}

export interface AuthServiceDeps {
  store: Store;
  limiter: Limiter;
  bus: RevocationBus | null;
  hasher: PasswordHasher;
  keys: KeyRing;
  revocations: RevocationList;
  cache: VerifiedTokenCache;
  clock: Clock;
  policy: AuthPolicy;
  csrfKey: CryptoKey;
  commonPasswords: ReadonlySet<string>;
  /** Digest of a token string for the verified-token cache (sync, fast). */
  cacheKey: (token: string) => string;
  /** Called with each recorded event (logging, metrics, hooks); must not throw. */
  onEvent?: (event: AuthEvent) => void;
  /** Describes a user agent for events ("Chrome on macOS"). */
  describeDevice?: (userAgent: string) => string;
  /** Called after a session from a device the user never used starts; must not throw or block. */
  onNewDevice?: (user: User, session: Session) => void;
}

/** What a correct password leads to: a session, or (TOTP on) a second step. */
export type LoginOutcome =
  | { kind: 'session'; issued: IssuedSession }
  | { kind: 'second_factor'; user: User; amr: string[] };

/** A DPoP key (RFC 7638 thumbprint) the issued tokens are bound to; absent for Bearer tokens. */
export interface TokenBinding {
  dpopJkt?: string | null;
}

/** HKDF purpose of the key a rotated refresh token's successor is sealed under. */
const SUCCESSOR_PURPOSE = 'refresh-successor';

/** Refresh tokens: `twr_` + 256 random bits (base64url). */
export const REFRESH_TOKEN_SHAPE = /^twr_[A-Za-z0-9_-]{43}$/;
const EMAIL_SHAPE = /^[^\s@"<>()[\],;:\\]+@[^\s@"<>()[\],;:\\]+\.[^\s@"<>()[\],;:\\]+$/;

/** Trims and lowercases an email; null when it is not a plausible address. */
export function normalizeEmail(value: string): string | null {
  const email = value.normalize('NFKC').trim().toLowerCase();
  if (email.length < 3 || email.length > 254 || !EMAIL_SHAPE.test(email)) return null;
  return email;
}

/**
 * The device identity a refresh is presented with, as stored with the rotation (API.md "Tokens"):
 * for a DPoP-capable transport (`binding.dpopJkt` given) the proof key's thumbprint, else the
 * browser's device id from `__Host-tw_dev`. Stored as a domain-separated SHA-256 digest, so the
 * database never holds the raw device id (a copy of the table must not let anyone pose as the
 * device). Null when the presenter has no identity: it then gets no grace.
 */
function presenterDigest(ctx: RequestContext, binding: TokenBinding): Promise<string | null> {
  if (binding.dpopJkt !== undefined)
    return binding.dpopJkt === null ? Promise.resolve(null) : sha256(`tokenward-presenter:dpop:${binding.dpopJkt}`);
  return ctx.deviceId === null ? Promise.resolve(null) : sha256(`tokenward-presenter:device:${ctx.deviceId}`);
}

/**
 * The core of Tokenward: signup, login, refresh rotation, logout and token authentication.
 * Pure logic over ports; the HTTP layer turns results into cookies and problem+json.
 */
export class AuthService {
  readonly #d: AuthServiceDeps;
  #cacheVersion = -1;

  constructor(deps: AuthServiceDeps) {
    this.#d = deps;
  }

  get deps(): AuthServiceDeps {
    return this.#d;
  }

  /** Records an audit event (never throws into the caller's path). */
  async recordEvent(
    event: Omit<AuthEvent, 'id' | 'at' | 'device' | 'data'> & {
      data?: Record<string, unknown> | null;
      userAgent?: string;
    },
  ): Promise<void> {
    const { userAgent, ...rest } = event;
    const full: AuthEvent = {
      id: randomId(),
      at: this.#d.clock.now(),
      device: userAgent && this.#d.describeDevice ? this.#d.describeDevice(userAgent) : null,
      data: null,
      ...rest,
    };
    await this.#d.store.recordEvent(full);
    this.#d.onEvent?.(full);
  }

  async signup(
    input: { email: string; password: string; name: string | null },
    ctx: RequestContext,
  ): Promise<IssuedSession> {
    const email = normalizeEmail(input.email);
    if (email === null) throw new TokenwardError('invalid_request', { detail: 'email must be a valid email address.' });
    await enforceIpLimit(this.#d.limiter, 'signup', ctx.ip, this.#d.policy.limits.signupPerIp, this.#d.policy.limits);
    const problem = checkPasswordPolicy(input.password, this.#d.commonPasswords, email);
    if (problem !== null) {
      const detail = {
        too_short: 'The password must be at least 8 characters.',
        too_long: 'The password must be at most 256 characters.',
        common: 'This password is too common; it appears in lists of breached passwords.',
        contains_email: 'The password must not be your email address.',
      }[problem];
      throw new TokenwardError('weak_password', { detail });
    }
    const now = this.#d.clock.now();
    // An address typed into a signup form proves nothing until Tokenward's email verification does.
    const user: User = { id: randomId(), email, emailVerified: false, name: input.name, createdAt: now };
    const hash = await this.#d.hasher.hash(normalizePassword(input.password));
    if ((await this.#d.store.createUser(user, hash)) === 'email_taken') throw new TokenwardError('email_taken');
    await this.recordEvent({
      type: 'user.signup',
      userId: user.id,
      ip: ctx.ip,
      sessionId: null,
      userAgent: ctx.userAgent,
    });
    // The account's first device is not "new": there is nothing to compare it with.
    return this.#startSession(user, ctx, ['pwd'], 'login.success', { detectNewDevice: false });
  }

  /**
   * Password login for transports without a second step (native clients): fails closed with
   * 401 `mfa_required` when the account has TOTP on.
   */
  async login(
    input: { email: string; password: string },
    ctx: RequestContext,
    binding: TokenBinding = {},
  ): Promise<IssuedSession> {
    const outcome = await this.beginLogin(input, ctx, binding);
    if (outcome.kind === 'second_factor') throw new TokenwardError('mfa_required');
    return outcome.issued;
  }

  /**
   * Checks email and password (limits, backoff, same work for unknown emails). With TOTP on,
   * no session is created: the caller holds the pending login until the second factor.
   */
  async beginLogin(
    input: { email: string; password: string },
    ctx: RequestContext,
    binding: TokenBinding = {},
  ): Promise<LoginOutcome> {
    const { limits } = this.#d.policy;
    await enforceIpLimit(this.#d.limiter, 'login', ctx.ip, limits.loginPerIp, limits);
    // Unparseable emails back off like unknown ones: the key is the normalised text either way.
    const email = normalizeEmail(input.email) ?? input.email.trim().toLowerCase().slice(0, 320);
    // Counted before the password is checked: concurrent guesses cannot outrun the backoff.
    const succeeded = await reserveSecretAttempt(this.#d.limiter, passwordBackoffKey(email), secretBackoff(limits));

    const user = await this.#d.store.findUserByEmail(email);
    const credentials = user ? await this.#d.store.getCredentials(user.id) : null;
    // Same work for unknown emails: verify against a dummy hash.
    const hash = credentials?.passwordHash ?? (await this.#d.hasher.dummyHash());
    const password = normalizePassword(input.password);
    const valid = await this.#d.hasher.verify(hash, password);
    if (!user || !credentials || !valid) {
      if (user)
        await this.recordEvent({
          type: 'login.failed',
          userId: user.id,
          ip: ctx.ip,
          sessionId: null,
          userAgent: ctx.userAgent,
        });
      throw new TokenwardError('invalid_credentials');
    }
    await succeeded();
    if (this.#d.hasher.needsRehash(credentials.passwordHash)) {
      await this.#d.store.setPasswordHash(user.id, await this.#d.hasher.hash(password));
    }
    if (credentials.totpConfirmedAt !== null && credentials.totpSecretSealed !== null)
      return { kind: 'second_factor', user, amr: ['pwd'] };
    return {
      kind: 'session',
      issued: await this.#startSession(user, ctx, ['pwd'], 'login.success', { dpopJkt: binding.dpopJkt ?? null }),
    };
  }

  /**
   * Starts the session of a login whose second factor the caller has just verified
   * (`amr` e.g. `["pwd", "otp", "mfa"]`), or of a federated (OIDC) login (`["fed"]`).
   * 401 `mfa_pending_invalid` if the user is gone. `detectNewDevice: false` for the first
   * session of an account just created (as at signup: there is no device to compare with).
   */
  async completeLogin(
    userId: string,
    amr: string[],
    ctx: RequestContext,
    options: { detectNewDevice?: boolean } = {},
  ): Promise<IssuedSession> {
    const user = await this.#d.store.findUserById(userId);
    if (!user) throw new TokenwardError('mfa_pending_invalid');
    return this.#startSession(
      user,
      ctx,
      amr,
      'login.success',
      options.detectNewDevice === false ? { detectNewDevice: false } : {},
    );
  }

  /** Creates a session for an already authenticated user (login, signup, OIDC, second factor). */
  async #startSession(
    user: User,
    ctx: RequestContext,
    amr: string[],
    eventType: string,
    options: { detectNewDevice?: boolean; dpopJkt?: string | null } = {},
  ): Promise<IssuedSession> {
    const now = this.#d.clock.now();
    const { policy } = this.#d;
    const refreshToken = `twr_${randomToken(32)}`;
    // A browser without the device cookie gets a fresh id now, stored with the session (and set as cookie by the transport).
    const deviceId = ctx.deviceId ?? randomToken(24);
    const probe = { deviceId: ctx.deviceId, userAgent: ctx.userAgent, ip: ctx.ip };
    const markers = await deviceMarkers({ ...probe, deviceId });
    const newDevice =
      options.detectNewDevice !== false && !(await isKnownDevice(this.#d.store, user.id, probe, markers, now));
    const session: Session = {
      id: randomId(),
      userId: user.id,
      createdAt: now,
      lastActiveAt: now,
      idleExpiresAt: now + Math.min(policy.refreshIdleSec, policy.refreshAbsoluteSec) * 1000,
      absoluteExpiresAt: now + policy.refreshAbsoluteSec * 1000,
      authTime: now,
      amr,
      revokedAt: null,
      revokeReason: null,
      ip: ctx.ip,
      userAgent: ctx.userAgent.slice(0, 512),
      deviceId,
      newDevice,
      dpopJkt: options.dpopJkt ?? null,
      clientId: ctx.clientId ?? policy.browserClientId,
    };
    const { evicted } = await this.#d.store.createSession({
      session,
      refreshHash: await sha256(refreshToken),
      maxSessions: policy.limits.concurrentSessions,
    });
    if (evicted.length > 0) {
      await this.#revoked(evicted, now);
      for (const id of evicted) {
        await this.recordEvent({
          type: 'session.evicted',
          userId: user.id,
          ip: ctx.ip,
          sessionId: id,
          userAgent: ctx.userAgent,
          data: { reason: 'session_limit' },
        });
      }
    }
    // The device markers let later logins recognise this device (see core/device.ts).
    await this.recordEvent({
      type: eventType,
      userId: user.id,
      ip: ctx.ip,
      sessionId: session.id,
      userAgent: ctx.userAgent,
      data: { ...markers },
    });
    if (newDevice) {
      await this.recordEvent({
        type: 'login.new_device',
        userId: user.id,
        ip: ctx.ip,
        sessionId: session.id,
        userAgent: ctx.userAgent,
      });
      try {
        this.#d.onNewDevice?.(user, session);
      } catch {
        // The alert is best effort; the login never fails because of it.
      }
    }
    return this.#issue(user, session, refreshToken);
  }

  async #issue(
    user: User,
    session: Session,
    refreshToken: string,
    accessJkt: string | null = session.dpopJkt,
    clientId?: string,
  ): Promise<IssuedSession> {
    // A DPoP-bound session only ever gets access tokens bound to the same key (RFC 9449 §6).
    const { accessToken, accessExpiresAt } = await this.issueAccessToken(session, {
      ...(accessJkt === null ? {} : { cnf: { jkt: accessJkt } }),
      ...(clientId === undefined ? {} : { clientId }),
    });
    const csrfToken = await createCsrfToken(
      this.#d.csrfKey,
      session.id,
      Math.min(session.absoluteExpiresAt, this.#d.clock.now() + this.#d.policy.refreshIdleSec * 1000),
    );
    return { user, session, accessToken, accessExpiresAt, refreshToken, csrfToken };
  }

  /**
   * Signs an access token for a session; it never outlives the session's absolute expiry. Its
   * `client_id` (RFC 9068 §2.2) is the session's client; `extra.clientId` (else the browser
   * client) only for a session that has none stored (started before migration 0003).
   */
  async issueAccessToken(
    session: Session,
    extra: { cnf?: { jkt: string }; clientId?: string } = {},
  ): Promise<{ accessToken: string; accessExpiresAt: number }> {
    const now = this.#d.clock.now();
    const nowSec = Math.floor(now / 1000);
    const exp = Math.min(nowSec + this.#d.policy.accessTtlSec, Math.floor(session.absoluteExpiresAt / 1000));
    const claims: AccessTokenClaims = {
      iss: this.#d.policy.issuer,
      aud: this.#d.policy.audience,
      sub: session.userId,
      sid: session.id,
      jti: randomToken(16),
      iat: nowSec,
      exp,
      auth_time: Math.floor(session.authTime / 1000),
      amr: session.amr,
      client_id: session.clientId ?? extra.clientId ?? this.#d.policy.browserClientId,
      ...(extra.cnf ? { cnf: extra.cnf } : {}),
    };
    return { accessToken: await signAccessTokenFast(claims, this.#d.keys.current()), accessExpiresAt: exp * 1000 };
  }

  /**
   * Rotates a refresh token. Within the grace window a rotated token yields the same successor
   * (racing tabs), but only to the device that rotated it: the same `__Host-tw_dev` device id
   * for the cookie transport, the same DPoP key for a DPoP-capable transport. Presented from
   * anywhere else, or after the window, it is reuse and revokes the session. A presenter with
   * no device identity (a native client without DPoP, a request without the device cookie) gets
   * no grace at all: it cannot show it is the device that rotated.
   *
   * `binding.dpopJkt` is the key of the request's verified DPoP proof (native clients). The
   * refresh token of a DPoP-bound session is refused, before anything rotates, unless the proof
   * key is the session's: 400 `invalid_dpop_proof` for a DPoP-capable transport (`dpopJkt`
   * given, null when the request had no proof), 401 `refresh_invalid` for the cookie transport
   * (`dpopJkt` absent). So a stolen bound token cannot be downgraded. With a proof and an
   * unbound session, the new access token is bound to the proof key.
   */
  async refresh(presented: string | null, ctx: RequestContext, binding: TokenBinding = {}): Promise<IssuedSession> {
    if (presented === null || !REFRESH_TOKEN_SHAPE.test(presented)) throw new TokenwardError('refresh_invalid');
    const proofJkt = binding.dpopJkt ?? null;
    const now = this.#d.clock.now();
    const successor = `twr_${randomToken(32)}`;
    // Sealed under a key derived from the presented token: only its holder can read it back (grace window).
    const [presentedHash, successorHash, successorSealed, presenter] = await Promise.all([
      sha256(presented),
      sha256(successor),
      sealUnder(presented, SUCCESSOR_PURPOSE, successor),
      presenterDigest(ctx, binding),
    ]);
    const outcome = await this.#d.store.rotateRefreshToken({
      presentedHash,
      successorHash,
      successorSealed,
      now,
      graceMs: this.#d.policy.refreshGraceSec * 1000,
      idleMs: this.#d.policy.refreshIdleSec * 1000,
      presenter,
      reuseEvent: {
        id: randomId(),
        type: 'refresh.reuse_detected',
        at: now,
        ip: ctx.ip,
        device: this.#d.describeDevice?.(ctx.userAgent) ?? null,
        data: null,
      },
      // The binding is checked by the rotation itself, before anything rotates (no extra lookup).
      dpopJkt: proofJkt,
    });
    switch (outcome.kind) {
      case 'dpop_mismatch':
        throw new TokenwardError(binding.dpopJkt === undefined ? 'refresh_invalid' : 'invalid_dpop_proof');
      case 'invalid':
        throw new TokenwardError('refresh_invalid');
      case 'expired':
        throw new TokenwardError('session_expired');
      case 'reused':
        await this.#revoked([outcome.session.id], now);
        throw new TokenwardError('refresh_reused');
      case 'grace': {
        const token = await openUnder(presented, SUCCESSOR_PURPOSE, outcome.successorSealed);
        if (token === null) throw new TokenwardError('refresh_invalid');
        return this.#issueFor(outcome.session, token, proofJkt, ctx);
      }
      case 'rotated':
        return this.#issueFor(outcome.session, successor, proofJkt, ctx);
    }
  }

  async #issueFor(
    session: Session,
    refreshToken: string,
    proofJkt: string | null,
    ctx: RequestContext,
  ): Promise<IssuedSession> {
    const user = await this.#d.store.findUserById(session.userId);
    if (!user) throw new TokenwardError('refresh_invalid');
    // The session keeps its client; only a session from before migration 0003 takes the refreshing transport's.
    return this.#issue(user, session, refreshToken, session.dpopJkt ?? proofJkt, ctx.clientId);
  }

  /**
   * Authenticates an access token: signature and claims (cached per exact token string), then
   * the revoked-session check on every call. Null when invalid, expired or revoked.
   */
  /**
   * The claims of an access token already verified and cached, without waiting for anything:
   * `undefined` when the token is not in the cache (verify it with {@link authenticate}),
   * `null` when its session is revoked. The revoked-session check runs on every call.
   */
  authenticateCached(token: string): AccessTokenClaims | null | undefined {
    const { cache, keys, revocations } = this.#d;
    if (this.#cacheVersion !== keys.version) return undefined;
    const claims = cache.get(this.#d.cacheKey(token), this.#d.clock.now());
    if (claims === undefined) return undefined;
    return revocations.has(claims.sid) ? null : claims;
  }

  async authenticate(token: string): Promise<AccessTokenClaims | null> {
    const { cache, keys, revocations, clock } = this.#d;
    if (this.#cacheVersion !== keys.version) {
      cache.clear();
      this.#cacheVersion = keys.version;
    }
    const now = clock.now();
    const key = this.#d.cacheKey(token);
    let claims = cache.get(key, now);
    if (claims === undefined) {
      const result = await verifyAccessToken(token, {
        issuer: this.#d.policy.issuer,
        audience: this.#d.policy.audience,
        algorithms: keys.algorithms(),
        keyFor: (kid) => keys.keyFor(kid),
        now,
      });
      if (!result.ok) return null;
      claims = result.claims;
      cache.set(key, claims);
    }
    if (revocations.has(claims.sid)) return null;
    return claims;
  }

  /** The session a refresh token belongs to, if still active. */
  async sessionForRefreshToken(presented: string | null): Promise<Session | null> {
    if (presented === null || !REFRESH_TOKEN_SHAPE.test(presented)) return null;
    const session = await this.#d.store.findSessionByRefreshHash(await sha256(presented));
    const now = this.#d.clock.now();
    if (!session || session.revokedAt !== null || session.absoluteExpiresAt <= now || session.idleExpiresAt <= now)
      return null;
    return session;
  }

  /** Revokes one session (idempotent) and makes its access tokens fail everywhere. */
  async revokeSession(sessionId: string, reason: RevokeReason, ctx: RequestContext | null): Promise<Session | null> {
    const now = this.#d.clock.now();
    const session = await this.#d.store.revokeSession(sessionId, now, reason);
    if (session) {
      await this.#revoked([session.id], now);
      await this.recordEvent({
        type: 'session.revoked',
        userId: session.userId,
        ip: ctx?.ip ?? null,
        sessionId: session.id,
        data: { reason },
        ...(ctx ? { userAgent: ctx.userAgent } : {}),
      });
    }
    return session;
  }

  /**
   * Revokes every session of a user (except one, if given) and records one event:
   * `session.logout_all` (none kept) or `session.revoke_others`, with `data.reason`. Returns the revoked ids.
   */
  async revokeUserSessions(
    userId: string,
    reason: RevokeReason,
    ctx: RequestContext | null,
    exceptId?: string,
  ): Promise<string[]> {
    const now = this.#d.clock.now();
    const ids = await this.#d.store.revokeUserSessions(userId, now, reason, exceptId);
    if (ids.length > 0) await this.#revoked(ids, now);
    // Every session (logout-all, an administrator's revocation) vs. all but the current one.
    const type = exceptId === undefined ? 'session.logout_all' : 'session.revoke_others';
    await this.recordEvent({
      type,
      userId,
      ip: ctx?.ip ?? null,
      sessionId: exceptId ?? null,
      data: { count: ids.length, reason },
      ...(ctx ? { userAgent: ctx.userAgent } : {}),
    });
    return ids;
  }

  /** Local denylist first (this node, immediately), then the fan-out to other nodes. */
  async #revoked(ids: string[], at: number): Promise<void> {
    for (const id of ids) this.#d.revocations.add(id, at);
    if (this.#d.bus) {
      try {
        await this.#d.bus.publish(ids.map((sessionId) => ({ sessionId, at })));
      } catch {
        // Other nodes still learn it by polling the store's revocations (≤ 1 s).
      }
    }
  }

  /** Loads the user and session behind verified claims (for /auth/me). */
  async describe(claims: AccessTokenClaims): Promise<{ user: User; session: Session } | null> {
    const [user, session] = await Promise.all([
      this.#d.store.findUserById(claims.sub),
      this.#d.store.getSession(claims.sid),
    ]);
    if (!user || !session || session.revokedAt !== null) return null;
    return { user, session };
  }
}
