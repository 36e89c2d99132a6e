import type {
  AuthEvent,
  CreateSessionInput,
  Credentials,
  DeleteUserInput,
  EventPage,
  IdentityLink,
  ListUsersOptions,
  RevokeReason,
  RotateInput,
  RotateOutcome,
  Session,
  SigningKeyRecord,
  SigningKeyState,
  Store,
  User,
  UserChanges,
  UserPage,
} from '../../kernel/ports.js';
import { decideRotation, type RefreshState } from '../../kernel/refresh/decide-rotation.js';
import { decodeEventCursor, encodeEventCursor } from '../event-cursor.js';

/**
 * An in-process {@link Store} with the same semantics as the SQL stores, for unit tests of core.
 * Every method runs to completion without awaiting, so each one is atomic like a transaction.
 * Records are copied in and out: callers never hold a reference into the store.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * await store.createUser({ id: 'u1', email: 'a@example.com', name: null, createdAt: 0 }, hash);
 * ```
 */
export function createMemoryStore(): Store {
  return new MemoryStore();
}

const isActive = (s: Session, now: number): boolean =>
  s.revokedAt === null && s.idleExpiresAt > now && s.absoluteExpiresAt > now;
const byRecentActivity = (a: Session, b: Session): number =>
  b.lastActiveAt - a.lastActiveAt || b.createdAt - a.createdAt || compare(b.id, a.id);
const byNewest = (a: AuthEvent, b: AuthEvent): number => b.at - a.at || compare(b.id, a.id);

/** Binary (code unit) order, like SQL's default collation for ASCII ids. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copySession(s: Session): Session {
  return { ...s, amr: [...s.amr] };
}

function copyEvent(e: AuthEvent): AuthEvent {
  return { ...e, data: e.data === null ? null : structuredClone(e.data) };
}

class MemoryStore implements Store {
  readonly #users = new Map<string, User>();
  /** Lowercased email → user id (the unique index). */
  readonly #emails = new Map<string, string>();
  readonly #credentials = new Map<string, Credentials>();
  readonly #sessions = new Map<string, Session>();
  /** Each session's refresh state: one entry per session, however often it rotates. */
  readonly #refresh = new Map<string, RefreshState>();
  /** Legacy refresh tokens (hash → session), as a store migrated from the earlier format keeps them. */
  readonly #legacyTokens = new Map<string, string>();
  readonly #events = new Map<string, AuthEvent>();
  readonly #signingKeys = new Map<string, SigningKeyRecord>();
  readonly #revocations = new Map<string, number>();
  /** `issuer \u0000 subject` → link (the primary key). */
  readonly #identities = new Map<string, IdentityLink>();
  #closed = false;

  async createUser(user: User, passwordHash: string): Promise<'ok' | 'email_taken'> {
    const email = user.email.toLowerCase();
    if (this.#emails.has(email)) return 'email_taken';
    if (this.#users.has(user.id)) throw new Error(`duplicate user id ${user.id}`);
    this.#users.set(user.id, { ...user });
    this.#emails.set(email, user.id);
    this.#credentials.set(user.id, {
      userId: user.id,
      passwordHash,
      totpSecretSealed: null,
      totpConfirmedAt: null,
      totpLastStep: null,
    });
    return 'ok';
  }

  async updateUser(
    userId: string,
    changes: UserChanges,
    options: { expectedEmail?: string } = {},
  ): Promise<'ok' | 'email_taken' | 'not_found'> {
    // No await: the checks and the writes are one atomic step, like the SQL stores' one statement.
    const user = this.#users.get(userId);
    if (!user) return 'not_found';
    if (options.expectedEmail !== undefined && user.email.toLowerCase() !== options.expectedEmail.toLowerCase())
      return 'not_found';
    if (changes.email !== undefined) {
      const next = changes.email.toLowerCase();
      const holder = this.#emails.get(next);
      if (holder !== undefined && holder !== userId) return 'email_taken';
      this.#emails.delete(user.email.toLowerCase());
      this.#emails.set(next, userId);
      user.email = changes.email;
    }
    if (changes.emailVerified !== undefined) user.emailVerified = changes.emailVerified;
    // Like the SQL stores' rows: only a disabled account carries the field.
    if (changes.disabledAt === null) delete user.disabledAt;
    else if (changes.disabledAt !== undefined) user.disabledAt = changes.disabledAt;
    return 'ok';
  }

  async deleteUser(input: DeleteUserInput): Promise<string[] | null> {
    const { userId, at } = input;
    const user = this.#users.get(userId);
    if (!user) return null;
    const active = this.#activeOf(userId, at).map((s) => s.id);
    for (const id of active) if (!this.#revocations.has(id)) this.#revocations.set(id, at);
    const keep = new Set(input.keepEventTypes);
    for (const [id, e] of this.#events) {
      if (e.userId !== userId) continue;
      if (keep.has(e.type)) this.#events.set(id, { ...e, userId: null, sessionId: null, data: null });
      else this.#events.delete(id);
    }
    this.#events.set(input.event.id, copyEvent(input.event));
    for (const [id, s] of this.#sessions) if (s.userId === userId) this.#sessions.delete(id);
    for (const [key, link] of this.#identities) if (link.userId === userId) this.#identities.delete(key);
    this.#credentials.delete(userId);
    this.#emails.delete(user.email.toLowerCase());
    this.#users.delete(userId);
    return active;
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const id = this.#emails.get(email.toLowerCase());
    const user = id === undefined ? undefined : this.#users.get(id);
    return user ? { ...user } : null;
  }

  async findUserById(id: string): Promise<User | null> {
    const user = this.#users.get(id);
    return user ? { ...user } : null;
  }

  async listUsers(options: ListUsersOptions): Promise<UserPage> {
    const limit = Math.max(1, Math.trunc(options.limit));
    const needle = options.emailContains?.toLowerCase();
    const after = options.after;
    const matching = [...this.#users.values()]
      .filter(
        (u) =>
          (needle === undefined || u.email.toLowerCase().includes(needle)) &&
          (after === undefined || compare(u.email, after) > 0),
      )
      .sort((a, b) => compare(a.email, b.email));
    const page = matching.slice(0, limit).map((u) => ({ ...u }));
    const last = page.at(-1);
    return { users: page, nextCursor: matching.length > limit && last ? last.email : null };
  }

  async getCredentials(userId: string): Promise<Credentials | null> {
    const c = this.#credentials.get(userId);
    return c ? { ...c } : null;
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    const c = this.#credentials.get(userId);
    if (c) c.passwordHash = passwordHash;
  }

  async setTotp(
    userId: string,
    fields: Partial<Pick<Credentials, 'totpSecretSealed' | 'totpConfirmedAt' | 'totpLastStep'>>,
  ): Promise<void> {
    const c = this.#credentials.get(userId);
    if (!c) return;
    if (fields.totpSecretSealed !== undefined) c.totpSecretSealed = fields.totpSecretSealed;
    if (fields.totpConfirmedAt !== undefined) c.totpConfirmedAt = fields.totpConfirmedAt;
    if (fields.totpLastStep !== undefined) c.totpLastStep = fields.totpLastStep;
  }

  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const c = this.#credentials.get(userId);
    if (!c || (c.totpLastStep !== null && c.totpLastStep >= step)) return false;
    c.totpLastStep = step;
    return true;
  }

  async createSession(input: CreateSessionInput): Promise<{ evicted: string[] }> {
    const { session } = input;
    if (this.#sessions.has(session.id)) throw new Error(`duplicate session id ${session.id}`);
    this.#sessions.set(session.id, copySession(session));
    this.#refresh.set(session.id, {
      generation: 1,
      hash: input.refreshHash,
      previousHash: null,
      rotatedAt: null,
      rotatedBy: null,
      successorSealed: null,
      older: { hash: null, rotatedAt: null, rotatedBy: null, successorSealed: null },
    });
    const now = session.createdAt;
    const others = this.#activeOf(session.userId, now).filter((s) => s.id !== session.id);
    const evicted: string[] = [];
    for (const s of others.slice(Math.max(0, input.maxSessions - 1))) {
      this.#revoke(s, now, 'session_limit');
      evicted.push(s.id);
    }
    return { evicted };
  }

  async getSession(id: string): Promise<Session | null> {
    const s = this.#sessions.get(id);
    return s ? copySession(s) : null;
  }

  async findSessionByRefreshHash(hash: string): Promise<Session | null> {
    const sessionId = this.#legacyTokens.get(hash);
    const s = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
    return s ? copySession(s) : null;
  }

  async listActiveSessions(userId: string, now: number): Promise<Session[]> {
    return this.#activeOf(userId, now).map(copySession);
  }

  async listUserSessions(userId: string, options: { limit: number }): Promise<Session[]> {
    return [...this.#sessions.values()]
      .filter((s) => s.userId === userId)
      .sort((a, b) => b.createdAt - a.createdAt || compare(b.id, a.id))
      .slice(0, Math.max(1, Math.trunc(options.limit)))
      .map(copySession);
  }

  async touchSession(id: string, at: number): Promise<void> {
    const s = this.#sessions.get(id);
    if (s) s.lastActiveAt = at;
  }

  async revokeSession(id: string, at: number, reason: RevokeReason): Promise<Session | null> {
    const s = this.#sessions.get(id);
    if (!s || s.revokedAt !== null) return null;
    this.#revoke(s, at, reason);
    return copySession(s);
  }

  async revokeUserSessions(userId: string, at: number, reason: RevokeReason, exceptId?: string): Promise<string[]> {
    const revoked: string[] = [];
    for (const s of this.#activeOf(userId, at)) {
      if (s.id === exceptId) continue;
      this.#revoke(s, at, reason);
      revoked.push(s.id);
    }
    return revoked;
  }

  async rotateRefreshToken(input: RotateInput): Promise<RotateOutcome> {
    // No await in here: decided and applied in one step on this event loop (the memory store's transaction).
    const { now } = input;
    const session = this.#sessions.get(input.sessionId);
    const state = this.#refresh.get(input.sessionId);
    if (!session || !state) return { kind: 'invalid' };
    const decision = decideRotation(session, state, {
      generation: input.generation,
      hash: input.presentedHash,
      presenter: input.presenter,
      proofJkt: input.proofJkt,
      now,
      graceMs: input.graceMs,
    });
    switch (decision.kind) {
      case 'invalid':
      case 'binding_mismatch':
        return { kind: decision.kind };
      case 'expired':
        return { kind: 'expired', session: copySession(session) };
      case 'grace':
        return { kind: 'grace', session: copySession(session), successorSealed: decision.successorSealed };
      case 'reused':
        this.#revoke(session, now, 'refresh_reuse');
        this.#events.set(
          input.reuseEvent.id,
          copyEvent({ ...input.reuseEvent, userId: session.userId, sessionId: session.id }),
        );
        return { kind: 'reused', session: copySession(session) };
      case 'rotate':
        this.#refresh.set(session.id, {
          generation: input.generation + 1,
          hash: input.successorHash,
          previousHash: input.presentedHash,
          rotatedAt: now,
          rotatedBy: input.presenter,
          successorSealed: input.successorSealed,
          older: {
            hash: state.previousHash,
            rotatedAt: state.rotatedAt,
            rotatedBy: state.rotatedBy,
            successorSealed: state.successorSealed,
          },
        });
        // RFC 9449 §5: a session refreshed with a proof is bound to that key from then on.
        if (session.dpopJkt === null && input.proofJkt !== null) session.dpopJkt = input.proofJkt;
        session.lastActiveAt = now;
        session.idleExpiresAt = Math.min(now + input.idleMs, session.absoluteExpiresAt);
        return { kind: 'rotated', session: copySession(session), retry: decision.retry };
    }
  }

  async listRevocationsSince(since: number): Promise<Array<{ sessionId: string; at: number }>> {
    return [...this.#revocations]
      .filter(([, at]) => at >= since)
      .map(([sessionId, at]) => ({ sessionId, at }))
      .sort((a, b) => a.at - b.at || compare(a.sessionId, b.sessionId));
  }

  async recordEvent(event: AuthEvent): Promise<void> {
    if (this.#events.has(event.id)) throw new Error(`duplicate event id ${event.id}`);
    this.#events.set(event.id, copyEvent(event));
  }

  async listEvents(userId: string, options: { limit: number; before?: string | undefined }): Promise<EventPage> {
    const limit = Math.max(1, Math.trunc(options.limit));
    let events = [...this.#events.values()].filter((e) => e.userId === userId).sort(byNewest);
    if (options.before !== undefined) {
      const cursor = decodeEventCursor(options.before);
      if (!cursor) return { events: [], nextCursor: null };
      events = events.filter((e) => e.at < cursor.at || (e.at === cursor.at && compare(e.id, cursor.id) < 0));
    }
    const page = events.slice(0, limit).map(copyEvent);
    const last = page.at(-1);
    return { events: page, nextCursor: events.length > limit && last ? encodeEventCursor(last) : null };
  }

  async prune(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, e] of this.#events) {
      if (e.at < before) {
        this.#events.delete(id);
        deleted++;
      }
    }
    for (const [id, at] of this.#revocations) {
      if (at < before) {
        this.#revocations.delete(id);
        deleted++;
      }
    }
    const dead = new Set<string>();
    for (const [id, s] of this.#sessions) {
      if ((s.revokedAt !== null && s.revokedAt < before) || s.absoluteExpiresAt < before) dead.add(id);
    }
    for (const [hash, sessionId] of this.#legacyTokens) if (dead.has(sessionId)) this.#legacyTokens.delete(hash);
    for (const id of dead) {
      this.#sessions.delete(id);
      this.#refresh.delete(id);
    }
    return deleted + dead.size;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return [...this.#signingKeys.values()]
      .sort((a, b) => a.createdAt - b.createdAt || compare(a.kid, b.kid))
      .map((k) => ({ ...k }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<boolean> {
    if (this.#signingKeys.has(key.kid)) return false;
    if (key.state === 'current' && [...this.#signingKeys.values()].some((k) => k.state === 'current')) return false;
    this.#signingKeys.set(key.kid, { ...key });
    return true;
  }

  async setSigningKeyState(kid: string, state: SigningKeyState, at: number): Promise<void> {
    const key = this.#signingKeys.get(kid);
    if (!key) return;
    if (
      state === 'current' &&
      key.state !== 'current' &&
      [...this.#signingKeys.values()].some((k) => k.state === 'current')
    ) {
      // Same as the SQL stores' unique index: a second current key is a programming error.
      throw Object.assign(new Error('Another signing key is already current'), { code: 'UNIQUE_VIOLATION' });
    }
    key.state = state;
    key.updatedAt = at;
  }

  async findUserByIdentity(issuer: string, subject: string): Promise<User | null> {
    const link = this.#identities.get(`${issuer}\u0000${subject}`);
    const user = link === undefined ? undefined : this.#users.get(link.userId);
    return user ? { ...user } : null;
  }

  async linkIdentity(link: IdentityLink): Promise<'ok' | 'identity_taken'> {
    const key = `${link.issuer}\u0000${link.subject}`;
    if (this.#identities.has(key)) return 'identity_taken';
    if (!this.#users.has(link.userId)) throw new Error(`linkIdentity: unknown user ${link.userId}`);
    this.#identities.set(key, { ...link });
    return 'ok';
  }

  async createUserWithIdentity(
    user: User,
    passwordHash: string,
    link: IdentityLink,
  ): Promise<'ok' | 'email_taken' | 'identity_taken'> {
    // No await in between: the checks and the writes are one atomic step, like a transaction.
    const key = `${link.issuer}\u0000${link.subject}`;
    const email = user.email.toLowerCase();
    if (this.#emails.has(email)) return 'email_taken';
    if (this.#identities.has(key)) return 'identity_taken';
    if (this.#users.has(user.id)) throw new Error(`duplicate user id ${user.id}`);
    this.#users.set(user.id, { ...user });
    this.#emails.set(email, user.id);
    this.#credentials.set(user.id, {
      userId: user.id,
      passwordHash,
      totpSecretSealed: null,
      totpConfirmedAt: null,
      totpLastStep: null,
    });
    this.#identities.set(key, { ...link, userId: user.id });
    return 'ok';
  }

  async ping(): Promise<void> {
    if (this.#closed) throw Object.assign(new Error('The memory store is closed'), { code: 'STORE_CLOSED' });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #activeOf(userId: string, now: number): Session[] {
    return [...this.#sessions.values()].filter((s) => s.userId === userId && isActive(s, now)).sort(byRecentActivity);
  }

  #revoke(s: Session, at: number, reason: RevokeReason): void {
    s.revokedAt = at;
    s.revokeReason = reason;
    if (!this.#revocations.has(s.id)) this.#revocations.set(s.id, at);
  }
}
