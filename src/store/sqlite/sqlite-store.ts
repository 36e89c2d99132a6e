import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
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
import { decideRotation } from '../../kernel/refresh/decide-rotation.js';
import { decodeEventCursor, encodeEventCursor } from '../event-cursor.js';
import { checkSchema, migrateToLatest, SchemaError } from '../migrations/index.js';
import {
  type CredentialsRow,
  type EventRow,
  fromEvent,
  fromSession,
  fromSigningKey,
  type RevocationRow,
  type SessionRow,
  type SigningKeyRow,
  type Database as TypedDatabase,
  toCredentials,
  toEvent,
  toRefreshState,
  toSession,
  toSigningKey,
  toUser,
  type UserRow,
} from '../rows.js';
import { registerSqlAccess } from '../sql-access.js';
import { type AdminStatements, prepareAdminStatements } from './admin-statements.js';
import { type IdentityStatements, prepareIdentityStatements } from './identity-statements.js';
import { type LifecycleStatements, prepareLifecycleStatements } from './lifecycle-statements.js';
import { INLINE_AUTOCHECKPOINT_PAGES, startWalCheckpointer } from './wal-checkpointer.js';

/**
 * Rows deleted per pruning statement, adapted to keep each statement near PRUNE_STATEMENT_MS: a
 * dead session's row sits in four B-trees, and on a large cold database a batch's cost is set by
 * page reads, not by the row count (bench/refresh-growth.ts).
 */
const PRUNE_BATCH = { first: 200, min: 10, max: 2000 };
const PRUNE_STATEMENT_MS = 4;

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; created with mode 0600 when missing. */
  file: string;
  /** How long a writer waits for another process's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

/**
 * Opens (and migrates) the embedded SQLite store. WAL journal, `synchronous=NORMAL`, foreign
 * keys on. Every operation is a synchronous prepared statement, and every multi-step change is
 * one `BEGIN IMMEDIATE` transaction, so a refresh rotation is atomic even across processes
 * sharing the file.
 *
 * @example
 * ```ts
 * const store = await openSqliteStore({ file: '.tokenward/tokenward.db' });
 * ```
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (options.file !== ':memory:') createPrivateFile(options.file);
  const db = new Database(options.file, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.pragma('foreign_keys = ON');
    // Checkpoint every ~16 MB of WAL instead of 4 MB: ≈20 % more rotations/s; the WAL file is
    // truncated back to at most 64 MB after a checkpoint. With a file, a worker thread takes the
    // checkpoints over (wal-checkpointer.ts), so none runs inside a request's commit.
    db.pragma(`wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT_PAGES}`);
    db.pragma('journal_size_limit = 67108864');
    // Reads of a large database come from the OS page cache without a copy per page (mmap), and
    // the hottest pages stay in SQLite's own cache: with 1M sessions a rotation touches pages no
    // 2 MB default cache holds (bench/refresh-growth.ts, section 2).
    db.pragma('mmap_size = 268435456');
    db.pragma('cache_size = -16384');
    await migrateSerially(resolve(options.file), db);
    const stopCheckpointer =
      options.file === ':memory:' ? null : startWalCheckpointer(db, resolve(options.file), busyTimeoutMs);
    const store = new SqliteStore(db, stopCheckpointer);
    // Feature repositories and artifacts query the same connection through Kysely (never destroyed: close() closes the file).
    registerSqlAccess(store, {
      db: new Kysely<TypedDatabase>({ dialect: new SqliteDialect({ database: db }) }),
      dialect: 'sqlite',
    });
    return store;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Creates the file readable by its owner only (it holds password hashes and sealed keys). */
function createPrivateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Migrations of one file run one at a time within this process: a second connection's
 * BEGIN IMMEDIATE would otherwise block the event loop (busy wait) while the first one, holding
 * the lock, waits for the event loop to finish its asynchronous migration.
 */
const migrating = new Map<string, Promise<void>>();

async function migrateSerially(key: string, db: Database.Database): Promise<void> {
  const previous = migrating.get(key) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => migrate(db));
  const tail = mine.catch(() => undefined);
  migrating.set(key, tail);
  try {
    await mine;
  } finally {
    if (migrating.get(key) === tail) migrating.delete(key);
  }
}

async function migrate(db: Database.Database): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped database.
  const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: db }) });
  const status = await checkSchema(kysely);
  if (status === 'ok') return;
  if (status === 'newer') throw new SchemaError('newer');
  // Kysely takes no lock on SQLite; BEGIN IMMEDIATE serialises processes opening a new file at once
  // (the loser waits, then finds the migrations done).
  db.exec('BEGIN IMMEDIATE');
  try {
    await migrateToLatest(kysely);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
  // Not kysely.destroy(): that would close the shared connection.
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #s;
  readonly #createUser;
  readonly #createSession;
  readonly #revokeSession;
  readonly #revokeUserSessions;
  readonly #rotate;
  #closed = false;
  readonly #stopCheckpointer: (() => Promise<void>) | null;

  constructor(db: Database.Database, stopCheckpointer: (() => Promise<void>) | null = null) {
    this.#db = db;
    this.#stopCheckpointer = stopCheckpointer;
    const s = {
      insertUser: db.prepare<[Omit<UserRow, 'disabled_at'>], void>(
        'INSERT INTO users (id, email, name, created_at, email_verified) VALUES (@id, @email, @name, @created_at, @email_verified)',
      ),
      insertCredentials: db.prepare<[string, string], void>(
        'INSERT INTO credentials (user_id, password_hash) VALUES (?, ?)',
      ),
      userByEmail: db.prepare<[string], UserRow>('SELECT * FROM users WHERE lower(email) = lower(?)'),
      userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      credentials: db.prepare<[string], CredentialsRow>('SELECT * FROM credentials WHERE user_id = ?'),
      setPasswordHash: db.prepare<[string, string], void>('UPDATE credentials SET password_hash = ? WHERE user_id = ?'),
      setTotp: db.prepare<
        [
          {
            user_id: string;
            set_secret: number;
            secret: string | null;
            set_confirmed: number;
            confirmed: number | null;
            set_step: number;
            step: number | null;
          },
        ],
        void
      >(
        `UPDATE credentials SET
           totp_secret_sealed = CASE WHEN @set_secret = 1 THEN @secret ELSE totp_secret_sealed END,
           totp_confirmed_at = CASE WHEN @set_confirmed = 1 THEN @confirmed ELSE totp_confirmed_at END,
           totp_last_step = CASE WHEN @set_step = 1 THEN @step ELSE totp_last_step END
         WHERE user_id = @user_id`,
      ),
      claimTotpStep: db.prepare<[number, string, number], void>(
        'UPDATE credentials SET totp_last_step = ? WHERE user_id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)',
      ),

      insertSession: db.prepare<[SessionRow], void>(
        `INSERT INTO sessions (id, user_id, created_at, last_active_at, idle_expires_at, absolute_expires_at, auth_time, amr,
           revoked_at, revoke_reason, ip, user_agent, device_id, new_device, dpop_jkt, client_id, refresh_generation, refresh_hash)
         VALUES (@id, @user_id, @created_at, @last_active_at, @idle_expires_at, @absolute_expires_at, @auth_time, @amr,
           @revoked_at, @revoke_reason, @ip, @user_agent, @device_id, @new_device, @dpop_jkt, @client_id, @refresh_generation, @refresh_hash)`,
      ),
      sessionById: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      sessionByRefreshHash: db.prepare<[string], SessionRow>(
        'SELECT s.* FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?',
      ),
      activeSessions: db.prepare<[string, number, number], SessionRow>(
        `SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?
         ORDER BY last_active_at DESC, created_at DESC, id DESC`,
      ),
      touchSession: db.prepare<[number, string], void>('UPDATE sessions SET last_active_at = ? WHERE id = ?'),
      revokeSession: db.prepare<[number, string, string], SessionRow>(
        'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL RETURNING *',
      ),
      insertRevocation: db.prepare<[string, number], void>(
        'INSERT INTO revocations (session_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ),
      revocationsSince: db.prepare<[number], RevocationRow>(
        'SELECT session_id, at FROM revocations WHERE at >= ? ORDER BY at ASC, session_id ASC',
      ),

      applyRotation: db.prepare<
        [
          {
            id: string;
            generation: number;
            hash: string;
            previous: string;
            now: number;
            by: string | null;
            sealed: string;
            idle_ms: number;
            jkt: string | null;
          },
        ],
        SessionRow
      >(
        `UPDATE sessions SET refresh_older_hash = refresh_previous_hash, refresh_older_rotated_at = refresh_rotated_at,
           refresh_older_rotated_by = refresh_rotated_by, refresh_older_successor_sealed = refresh_successor_sealed, refresh_generation = @generation, refresh_hash = @hash, refresh_previous_hash = @previous, refresh_rotated_at = @now,
           refresh_rotated_by = @by, refresh_successor_sealed = @sealed, last_active_at = @now,
           idle_expires_at = min(@now + @idle_ms, absolute_expires_at), dpop_jkt = coalesce(dpop_jkt, @jkt)
         WHERE id = @id RETURNING *`,
      ),

      insertEvent: db.prepare<[EventRow], void>(
        'INSERT INTO events (id, user_id, type, at, ip, session_id, device, data) VALUES (@id, @user_id, @type, @at, @ip, @session_id, @device, @data)',
      ),
      eventsFirstPage: db.prepare<[string, number], EventRow>(
        'SELECT * FROM events WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?',
      ),
      eventsBefore: db.prepare<[{ user_id: string; at: number; id: string; limit: number }], EventRow>(
        `SELECT * FROM events WHERE user_id = @user_id AND (at < @at OR (at = @at AND id < @id))
         ORDER BY at DESC, id DESC LIMIT @limit`,
      ),

      // Pruning in bounded batches through indexes (events_at, revocations_at, sessions_revoked_at,
      // sessions_absolute_expires_at): each statement is short, and with nothing due each is one index probe.
      pruneEvents: db.prepare<[number, number], void>(
        'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? LIMIT ?)',
      ),
      pruneRevocations: db.prepare<[number, number], void>(
        'DELETE FROM revocations WHERE session_id IN (SELECT session_id FROM revocations WHERE at < ? LIMIT ?)',
      ),
      pruneRevokedSessions: db.prepare<[number, number], void>(
        'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE revoked_at < ? LIMIT ?)',
      ),
      pruneExpiredSessions: db.prepare<[number, number], void>(
        'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE absolute_expires_at < ? LIMIT ?)',
      ),

      signingKeys: db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at ASC, kid ASC'),
      insertSigningKey: db.prepare<[SigningKeyRow], void>(
        `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_sealed, created_at, updated_at)
         VALUES (@kid, @alg, @state, @public_jwk, @private_jwk_sealed, @created_at, @updated_at) ON CONFLICT DO NOTHING`,
      ),
      setSigningKeyState: db.prepare<[string, number, string], void>(
        'UPDATE signing_keys SET state = ?, updated_at = ? WHERE kid = ?',
      ),
      ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
    };
    this.#s = s;

    this.#createUser = db.transaction((user: User, passwordHash: string): 'ok' | 'email_taken' => {
      if (s.userByEmail.get(user.email)) return 'email_taken';
      s.insertUser.run({
        id: user.id,
        email: user.email,
        name: user.name,
        created_at: user.createdAt,
        email_verified: user.emailVerified ? 1 : 0,
      });
      s.insertCredentials.run(user.id, passwordHash);
      return 'ok';
    });

    this.#revokeSession = db.transaction((id: string, at: number, reason: RevokeReason): Session | null => {
      const row = s.revokeSession.get(at, reason, id);
      if (!row) return null;
      s.insertRevocation.run(id, at);
      return toSession(row);
    });

    this.#createSession = db.transaction((input: CreateSessionInput): string[] => {
      const { session } = input;
      s.insertSession.run({ ...fromSession(session), refresh_generation: 1, refresh_hash: input.refreshHash });
      const now = session.createdAt;
      const others = s.activeSessions.all(session.userId, now, now).filter((r) => r.id !== session.id);
      // The new session always stays; the least recently active others make room for it.
      const keep = Math.max(0, input.maxSessions - 1);
      const evicted: string[] = [];
      for (const row of others.slice(keep)) {
        if (s.revokeSession.get(now, 'session_limit', row.id)) {
          s.insertRevocation.run(row.id, now);
          evicted.push(row.id);
        }
      }
      return evicted;
    });

    this.#revokeUserSessions = db.transaction(
      (userId: string, at: number, reason: RevokeReason, exceptId: string | undefined): string[] => {
        const revoked: string[] = [];
        for (const row of s.activeSessions.all(userId, at, at)) {
          if (row.id === exceptId) continue;
          if (s.revokeSession.get(at, reason, row.id)) {
            s.insertRevocation.run(row.id, at);
            revoked.push(row.id);
          }
        }
        return revoked;
      },
    );

    this.#rotate = db.transaction((input: RotateInput): RotateOutcome => {
      const { now } = input;
      const row = s.sessionById.get(input.sessionId);
      if (!row) return { kind: 'invalid' };
      const session = toSession(row);
      const decision = decideRotation(session, toRefreshState(row), {
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
          return { kind: 'expired', session };
        case 'grace':
          return { kind: 'grace', session, successorSealed: decision.successorSealed };
        case 'reused': {
          const revoked = s.revokeSession.get(now, 'refresh_reuse', row.id);
          s.insertRevocation.run(row.id, now);
          s.insertEvent.run(fromEvent({ ...input.reuseEvent, userId: row.user_id, sessionId: row.id }));
          return { kind: 'reused', session: revoked ? toSession(revoked) : session };
        }
        case 'rotate': {
          const updated = s.applyRotation.get({
            id: row.id,
            generation: input.generation + 1,
            hash: input.successorHash,
            previous: input.presentedHash,
            now,
            by: input.presenter,
            sealed: input.successorSealed,
            idle_ms: input.idleMs,
            jkt: input.proofJkt,
          });
          return { kind: 'rotated', session: toSession(updated ?? row), retry: decision.retry };
        }
      }
    });
  }

  async createUser(user: User, passwordHash: string): Promise<'ok' | 'email_taken'> {
    try {
      return this.#createUser.immediate(user, passwordHash);
    } catch (error) {
      if (isUniqueViolation(error) && this.#s.userByEmail.get(user.email)) return 'email_taken';
      throw error;
    }
  }

  async findUserByEmail(email: string): Promise<User | null> {
    const row = this.#s.userByEmail.get(email);
    return row ? toUser(row) : null;
  }

  async findUserById(id: string): Promise<User | null> {
    const row = this.#s.userById.get(id);
    return row ? toUser(row) : null;
  }

  async getCredentials(userId: string): Promise<Credentials | null> {
    const row = this.#s.credentials.get(userId);
    return row ? toCredentials(row) : null;
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    this.#s.setPasswordHash.run(passwordHash, userId);
  }

  async setTotp(
    userId: string,
    fields: Partial<Pick<Credentials, 'totpSecretSealed' | 'totpConfirmedAt' | 'totpLastStep'>>,
  ): Promise<void> {
    this.#s.setTotp.run({
      user_id: userId,
      set_secret: fields.totpSecretSealed === undefined ? 0 : 1,
      secret: fields.totpSecretSealed ?? null,
      set_confirmed: fields.totpConfirmedAt === undefined ? 0 : 1,
      confirmed: fields.totpConfirmedAt ?? null,
      set_step: fields.totpLastStep === undefined ? 0 : 1,
      step: fields.totpLastStep ?? null,
    });
  }

  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    return this.#s.claimTotpStep.run(step, userId, step).changes === 1;
  }

  async createSession(input: CreateSessionInput): Promise<{ evicted: string[] }> {
    return { evicted: this.#createSession.immediate(input) };
  }

  async getSession(id: string): Promise<Session | null> {
    const row = this.#s.sessionById.get(id);
    return row ? toSession(row) : null;
  }

  async findSessionByRefreshHash(hash: string): Promise<Session | null> {
    const row = this.#s.sessionByRefreshHash.get(hash);
    return row ? toSession(row) : null;
  }

  async listActiveSessions(userId: string, now: number): Promise<Session[]> {
    return this.#s.activeSessions.all(userId, now, now).map(toSession);
  }

  async touchSession(id: string, at: number): Promise<void> {
    this.#s.touchSession.run(at, id);
  }

  async revokeSession(id: string, at: number, reason: RevokeReason): Promise<Session | null> {
    return this.#revokeSession.immediate(id, at, reason);
  }

  async revokeUserSessions(userId: string, at: number, reason: RevokeReason, exceptId?: string): Promise<string[]> {
    return this.#revokeUserSessions.immediate(userId, at, reason, exceptId);
  }

  async rotateRefreshToken(input: RotateInput): Promise<RotateOutcome> {
    return this.#rotate.immediate(input);
  }

  async listRevocationsSince(since: number): Promise<Array<{ sessionId: string; at: number }>> {
    return this.#s.revocationsSince.all(since).map((r) => ({ sessionId: r.session_id, at: Number(r.at) }));
  }

  async recordEvent(event: AuthEvent): Promise<void> {
    this.#s.insertEvent.run(fromEvent(event));
  }

  async listEvents(userId: string, options: { limit: number; before?: string | undefined }): Promise<EventPage> {
    const limit = Math.max(1, Math.trunc(options.limit));
    let rows: EventRow[];
    if (options.before === undefined) {
      rows = this.#s.eventsFirstPage.all(userId, limit + 1);
    } else {
      const cursor = decodeEventCursor(options.before);
      if (!cursor) return { events: [], nextCursor: null };
      rows = this.#s.eventsBefore.all({ user_id: userId, at: cursor.at, id: cursor.id, limit: limit + 1 });
    }
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return { events, nextCursor: rows.length > limit && last ? encodeEventCursor(last) : null };
  }

  async prune(before: number): Promise<number> {
    const s = this.#s;
    let deleted = 0;
    for (const statement of [s.pruneEvents, s.pruneRevocations, s.pruneRevokedSessions, s.pruneExpiredSessions]) {
      let batch = PRUNE_BATCH.first;
      for (;;) {
        if (this.#closed) return deleted;
        const started = performance.now();
        const changes = statement.run(before, batch).changes;
        const took = performance.now() - started;
        deleted += changes;
        if (changes < batch) break;
        if (took > PRUNE_STATEMENT_MS) batch = Math.max(PRUNE_BATCH.min, Math.floor(batch / 2));
        else if (took < PRUNE_STATEMENT_MS / 4) batch = Math.min(PRUNE_BATCH.max, batch * 2);
        // Let requests in between batches: the prune never holds the event loop for long.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return deleted;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#s.signingKeys.all().map(toSigningKey);
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<boolean> {
    // ON CONFLICT DO NOTHING also covers the partial unique index "one current key".
    return this.#s.insertSigningKey.run(fromSigningKey(key)).changes === 1;
  }

  async setSigningKeyState(kid: string, state: SigningKeyState, at: number): Promise<void> {
    this.#s.setSigningKeyState.run(state, at, kid);
  }

  #identityStatements: IdentityStatements | undefined;
  get #identities(): IdentityStatements {
    this.#identityStatements ??= prepareIdentityStatements(this.#db);
    return this.#identityStatements;
  }

  async findUserByIdentity(issuer: string, subject: string): Promise<User | null> {
    const row = this.#identities.userByIdentity.get(issuer, subject);
    return row ? toUser(row) : null;
  }

  async linkIdentity(link: IdentityLink): Promise<'ok' | 'identity_taken'> {
    return this.#identities.insertLink(link) ? 'ok' : 'identity_taken';
  }

  async createUserWithIdentity(
    user: User,
    passwordHash: string,
    link: IdentityLink,
  ): Promise<'ok' | 'email_taken' | 'identity_taken'> {
    try {
      return this.#identities.createUserWithIdentity.immediate(user, passwordHash, link);
    } catch (error) {
      // Another process inserted the same email between our check and insert (unique index).
      if (isUniqueViolation(error) && (await this.findUserByEmail(user.email))) return 'email_taken';
      throw error;
    }
  }

  #lifecycleStatements: LifecycleStatements | undefined;
  get #lifecycle(): LifecycleStatements {
    this.#lifecycleStatements ??= prepareLifecycleStatements(this.#db);
    return this.#lifecycleStatements;
  }

  async updateUser(
    userId: string,
    changes: UserChanges,
    options: { expectedEmail?: string } = {},
  ): Promise<'ok' | 'email_taken' | 'not_found'> {
    return this.#lifecycle.updateUser(userId, changes, options);
  }

  async deleteUser(input: DeleteUserInput): Promise<string[] | null> {
    return this.#lifecycle.deleteUser.immediate(input);
  }

  #adminStatements: AdminStatements | undefined;
  get #admin(): AdminStatements {
    this.#adminStatements ??= prepareAdminStatements(this.#db);
    return this.#adminStatements;
  }

  async listUsers(options: ListUsersOptions): Promise<UserPage> {
    return this.#admin.listUsers(options);
  }

  async listUserSessions(userId: string, options: { limit: number }): Promise<Session[]> {
    return this.#admin.listUserSessions(userId, options.limit);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw Object.assign(new Error('The SQLite store is closed'), { code: 'SQLITE_MISUSE' });
    this.#s.ping.get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stopCheckpointer?.();
    this.#db.close();
  }
}
