import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
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
  type Database,
  fromEvent,
  fromSession,
  fromSigningKey,
  SESSION_COLUMNS,
  type SessionRow,
  toCredentials,
  toEvent,
  toRefreshState,
  toSession,
  toSigningKey,
  toUser,
} from '../rows.js';
import { registerSqlAccess } from '../sql-access.js';

/** Rows deleted per pruning statement. */
const PRUNE_BATCH = 1000;

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Connections in this process's pool (default 10). */
  poolSize?: number | undefined;
  /** Run pending migrations at open. Otherwise an unmigrated database is refused (run `tokenward migrate`). */
  migrate?: boolean | undefined;
  /** Schema holding the tables (default: the connection's current schema, usually `public`). */
  schema?: string | undefined;
  /** Server-side statement timeout (default 5 s). */
  statementTimeoutMs?: number | undefined;
  /** Time to wait for a connection (default 3 s). */
  connectionTimeoutMs?: number | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 (bigint, and count(*)) as a JS number: every int8 here is an epoch-ms time or a small count. */
const INT8_OID = 20;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens the PostgreSQL store (Kysely on a `pg` pool). Every multi-step change is one
 * transaction; a refresh rotation locks its session row, so concurrent presentations of one
 * token, from any number of processes, produce exactly one successor.
 *
 * Refuses a database whose schema is missing or newer than this version, unless `migrate` is set
 * (then it migrates; concurrent migrators are serialised by an advisory lock).
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ url: process.env.TOKENWARD_DATABASE_URL!, migrate: true });
 * ```
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error(
      `Invalid PostgreSQL schema name ${JSON.stringify(options.schema)}: use lowercase letters, digits and _`,
    );
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 3000,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    // A client-side bound too, for a server that stops answering altogether.
    query_timeout: (options.statementTimeoutMs ?? 5000) + 2000,
    idle_in_transaction_session_timeout: 15_000,
    idleTimeoutMillis: 30_000,
    application_name: 'tokenward',
    types: typeParsers,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  // An idle connection dropped by the server must not crash the process; the next query
  // gets a fresh connection or a connection error.
  pool.on('error', () => {});
  // A connection that breaks while checked out (between two statements of a transaction, or when
  // the server restarts) emits 'error' on its client; unhandled, that would end the process. The
  // statement in flight fails on its own (→ 503), and the pool drops the broken client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    const schema = options.schema ?? (await currentSchema(db));
    if (options.migrate) {
      await migrateToLatest(db, { schema });
    } else {
      const status = await checkSchema(db, { schema });
      if (status !== 'ok') throw new SchemaError(status);
    }
    const store = new PostgresStore(db, pool);
    registerSqlAccess(store, { db, dialect: 'postgres' });
    return store;
  } catch (error) {
    await db.destroy().catch(() => {});
    throw error;
  }
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? 'public';
}

/**
 * The hottest statement of the server: the current token of a live session rotates in one
 * autocommitted UPDATE (prepared once per connection). Its WHERE clause is the plain case of the
 * rotation rule (kernel/refresh/decide-rotation.ts): current generation and hash, a live session,
 * the DPoP binding. A concurrent presenter blocks on the row, then finds the generation moved and
 * changes nothing; every other case takes the locked slow path, which applies the rule itself.
 * Parameters: $1 session id, $2 presented generation, $3 presented hash, $4 now, $5 successor hash,
 * $6 presenter, $7 successor sealed, $8 idle ms, $9 proof jkt.
 * Columns are listed (not `*`) so that the per-connection prepared plan survives a later
 * migration adding a column.
 */
const ROTATE_CURRENT_SQL = `
  update sessions set refresh_older_hash = refresh_previous_hash, refresh_older_rotated_at = refresh_rotated_at,
    refresh_older_rotated_by = refresh_rotated_by, refresh_older_successor_sealed = refresh_successor_sealed, refresh_generation = $2::bigint + 1, refresh_hash = $5::text, refresh_previous_hash = $3::text, refresh_rotated_at = $4::bigint,
    refresh_rotated_by = $6::text, refresh_successor_sealed = $7::text, last_active_at = $4::bigint,
    idle_expires_at = least($4::bigint + $8::bigint, absolute_expires_at), dpop_jkt = coalesce(dpop_jkt, $9::text)
  where id = $1::text and refresh_generation = $2::bigint and refresh_hash = $3::text
    and revoked_at is null and idle_expires_at > $4::bigint and absolute_expires_at > $4::bigint
    and (dpop_jkt is null or dpop_jkt = $9::text)
  returning ${SESSION_COLUMNS.join(', ')}`;

function rotateParams(input: RotateInput): unknown[] {
  return [
    input.sessionId,
    input.generation,
    input.presentedHash,
    input.now,
    input.successorHash,
    input.presenter,
    input.successorSealed,
    input.idleMs,
    input.proofJkt,
  ];
}

class PostgresStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #pool: pg.Pool;
  #closed: Promise<void> | undefined;

  constructor(db: Kysely<Database>, pool: pg.Pool) {
    this.#db = db;
    this.#pool = pool;
  }

  async createUser(user: User, passwordHash: string): Promise<'ok' | 'email_taken'> {
    return this.#db.transaction().execute((trx) => this.#insertUser(trx, user, passwordHash));
  }

  /** Inserts a user and its credentials row in `trx`; 'email_taken' when the email exists. */
  async #insertUser(trx: Transaction<Database>, user: User, passwordHash: string): Promise<'ok' | 'email_taken'> {
    // DO NOTHING covers the unique index on lower(email); a racing signup waits for the
    // other transaction and then inserts nothing.
    const inserted = await trx
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email,
        name: user.name,
        created_at: user.createdAt,
        email_verified: user.emailVerified ? 1 : 0,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      if (await this.#userByEmail(trx, user.email)) return 'email_taken';
      throw new Error('createUser: duplicate user id');
    }
    await trx
      .insertInto('credentials')
      .values({
        user_id: user.id,
        password_hash: passwordHash,
        totp_secret_sealed: null,
        totp_confirmed_at: null,
        totp_last_step: null,
      })
      .execute();
    return 'ok';
  }

  async findUserByEmail(email: string): Promise<User | null> {
    return this.#userByEmail(this.#db, email);
  }

  async #userByEmail(db: Kysely<Database>, email: string): Promise<User | null> {
    const row = await db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['email']), '=', eb.fn('lower', [eb.val(email)])))
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUserById(id: string): Promise<User | null> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async getCredentials(userId: string): Promise<Credentials | null> {
    const row = await this.#db.selectFrom('credentials').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row ? toCredentials(row) : null;
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.#db
      .updateTable('credentials')
      .set({ password_hash: passwordHash })
      .where('user_id', '=', userId)
      .execute();
  }

  async setTotp(
    userId: string,
    fields: Partial<Pick<Credentials, 'totpSecretSealed' | 'totpConfirmedAt' | 'totpLastStep'>>,
  ): Promise<void> {
    const set: {
      totp_secret_sealed?: string | null;
      totp_confirmed_at?: number | null;
      totp_last_step?: number | null;
    } = {};
    if (fields.totpSecretSealed !== undefined) set.totp_secret_sealed = fields.totpSecretSealed;
    if (fields.totpConfirmedAt !== undefined) set.totp_confirmed_at = fields.totpConfirmedAt;
    if (fields.totpLastStep !== undefined) set.totp_last_step = fields.totpLastStep;
    if (Object.keys(set).length === 0) return;
    await this.#db.updateTable('credentials').set(set).where('user_id', '=', userId).execute();
  }

  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('credentials')
      .set({ totp_last_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async createSession(input: CreateSessionInput): Promise<{ evicted: string[] }> {
    const { session } = input;
    return this.#db.transaction().execute(async (trx) => {
      // One session start per user at a time, across every node: the count below stays exact.
      await trx.selectFrom('users').select('id').where('id', '=', session.userId).forUpdate().execute();
      await trx
        .insertInto('sessions')
        .values({ ...fromSession(session), refresh_generation: 1, refresh_hash: input.refreshHash })
        .execute();
      const now = session.createdAt;
      const others = await sql<{ id: string }>`
        select id from sessions
        where user_id = ${session.userId} and id <> ${session.id}
          and revoked_at is null and idle_expires_at > ${now} and absolute_expires_at > ${now}
        order by last_active_at desc, created_at desc, id collate "C" desc`.execute(trx);
      const excess = others.rows.slice(Math.max(0, input.maxSessions - 1)).map((r) => r.id);
      if (excess.length === 0) return { evicted: [] };
      const { rows } = await sql<{ id: string }>`
        with revoked as (
          update sessions set revoked_at = ${now}, revoke_reason = 'session_limit'
          where id = any(${excess}::text[]) and revoked_at is null
          returning id, revoked_at
        ), recorded as (
          insert into revocations (session_id, at) select id, revoked_at from revoked on conflict do nothing
        )
        select id from revoked`.execute(trx);
      const evicted = new Set(rows.map((r) => r.id));
      return { evicted: excess.filter((id) => evicted.has(id)) };
    });
  }

  async getSession(id: string): Promise<Session | null> {
    const row = await this.#db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async findSessionByRefreshHash(hash: string): Promise<Session | null> {
    const row = await this.#db
      .selectFrom('refresh_tokens as t')
      .innerJoin('sessions as s', 's.id', 't.session_id')
      .selectAll('s')
      .where('t.hash', '=', hash)
      .executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async listActiveSessions(userId: string, now: number): Promise<Session[]> {
    const { rows } = await sql<SessionRow>`
      select * from sessions
      where user_id = ${userId} and revoked_at is null and idle_expires_at > ${now} and absolute_expires_at > ${now}
      order by last_active_at desc, created_at desc, id collate "C" desc`.execute(this.#db);
    return rows.map(toSession);
  }

  async touchSession(id: string, at: number): Promise<void> {
    await this.#db.updateTable('sessions').set({ last_active_at: at }).where('id', '=', id).execute();
  }

  async revokeSession(id: string, at: number, reason: RevokeReason): Promise<Session | null> {
    // One statement: the revocation row exists exactly when the session was revoked here.
    const { rows } = await sql<SessionRow>`
      with revoked as (
        update sessions set revoked_at = ${at}, revoke_reason = ${reason}
        where id = ${id} and revoked_at is null
        returning *
      ), recorded as (
        insert into revocations (session_id, at) select id, revoked_at from revoked on conflict do nothing
      )
      select * from revoked`.execute(this.#db);
    const row = rows[0];
    return row ? toSession(row) : null;
  }

  async revokeUserSessions(userId: string, at: number, reason: RevokeReason, exceptId?: string): Promise<string[]> {
    return this.#db.transaction().execute(async (trx) => {
      // Same per-user lock as createSession: a login evicting sessions and a logout-all touch
      // the same rows, and would otherwise lock them in different orders (deadlock).
      await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
      const { rows } = await sql<{ id: string }>`
        with revoked as (
          update sessions set revoked_at = ${at}, revoke_reason = ${reason}
          where user_id = ${userId} and revoked_at is null and idle_expires_at > ${at} and absolute_expires_at > ${at}
            and id is distinct from ${exceptId ?? null}::text
          returning id, revoked_at
        ), recorded as (
          insert into revocations (session_id, at) select id, revoked_at from revoked on conflict do nothing
        )
        select id from revoked`.execute(trx);
      return rows.map((r) => r.id);
    });
  }

  async rotateRefreshToken(input: RotateInput): Promise<RotateOutcome> {
    const { rows } = await this.#pool.query<SessionRow>({
      name: 'tokenward_rotate_current',
      text: ROTATE_CURRENT_SQL,
      values: rotateParams(input),
    });
    const fast = rows[0];
    if (fast) return { kind: 'rotated', session: toSession(fast), retry: false };
    return this.#rotateLocked(input);
  }

  /** Every case but the plain one: the rotation rule decided under a lock on the session row. */
  async #rotateLocked(input: RotateInput): Promise<RotateOutcome> {
    const { now } = input;
    return this.#db.transaction().execute(async (trx): Promise<RotateOutcome> => {
      // Every slow-path presentation of a token of this session queues here, on every node.
      const locked = await sql<SessionRow>`select * from sessions where id = ${input.sessionId} for update`.execute(
        trx,
      );
      const row = locked.rows[0];
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
        case 'rotate': {
          const updated = await sql<SessionRow>`
            update sessions set refresh_older_hash = refresh_previous_hash, refresh_older_rotated_at = refresh_rotated_at,
              refresh_older_rotated_by = refresh_rotated_by, refresh_older_successor_sealed = refresh_successor_sealed, refresh_generation = ${input.generation + 1}, refresh_hash = ${input.successorHash},
              refresh_previous_hash = ${input.presentedHash}, refresh_rotated_at = ${now}, refresh_rotated_by = ${input.presenter}, refresh_successor_sealed = ${input.successorSealed},
              last_active_at = ${now}, idle_expires_at = least(${now + input.idleMs}, absolute_expires_at),
              dpop_jkt = coalesce(dpop_jkt, ${input.proofJkt}::text)
            where id = ${session.id} returning *`.execute(trx);
          const updatedRow = updated.rows[0];
          return { kind: 'rotated', session: updatedRow ? toSession(updatedRow) : session, retry: decision.retry };
        }
        case 'reused': {
          const revoked = await sql<SessionRow>`
            update sessions set revoked_at = ${now}, revoke_reason = 'refresh_reuse'
            where id = ${session.id} and revoked_at is null returning *`.execute(trx);
          await trx
            .insertInto('revocations')
            .values({ session_id: session.id, at: now })
            .onConflict((oc) => oc.doNothing())
            .execute();
          await trx
            .insertInto('events')
            .values(fromEvent({ ...input.reuseEvent, userId: session.userId, sessionId: session.id }))
            .execute();
          const revokedRow = revoked.rows[0];
          return { kind: 'reused', session: revokedRow ? toSession(revokedRow) : session };
        }
      }
    });
  }

  async listRevocationsSince(since: number): Promise<Array<{ sessionId: string; at: number }>> {
    const { rows } = await sql<{ session_id: string; at: number }>`
      select session_id, at from revocations where at >= ${since} order by at asc, session_id collate "C" asc`.execute(
      this.#db,
    );
    return rows.map((r) => ({ sessionId: r.session_id, at: r.at }));
  }

  async recordEvent(event: AuthEvent): Promise<void> {
    await this.#db.insertInto('events').values(fromEvent(event)).execute();
  }

  async listEvents(userId: string, options: { limit: number; before?: string | undefined }): Promise<EventPage> {
    const limit = Math.max(1, Math.trunc(options.limit));
    let after = sql`true`;
    if (options.before !== undefined) {
      const cursor = decodeEventCursor(options.before);
      if (!cursor) return { events: [], nextCursor: null };
      after = sql`(at < ${cursor.at} or (at = ${cursor.at} and id collate "C" < ${cursor.id}))`;
    }
    // Byte order ("C") for the id tie-break, whatever the database's collation.
    const { rows } = await sql<Database['events']>`
      select * from events where user_id = ${userId} and ${after}
      order by at desc, id collate "C" desc limit ${limit + 1}`.execute(this.#db);
    const events = rows.slice(0, limit).map(toEvent);
    const last = events.at(-1);
    return { events, nextCursor: rows.length > limit && last ? encodeEventCursor(last) : null };
  }

  async prune(before: number): Promise<number> {
    // Bounded batches through indexes (events_at, revocations_at, sessions_revoked_at,
    // sessions_absolute_expires_at), each autocommitted: no long transaction, no long lock, and
    // one index probe per statement when nothing is due. Legacy refresh-token rows go with their
    // session (foreign key, on delete cascade).
    const batches = [
      sql<{
        n: number;
      }>`with d as (delete from events where id in (select id from events where at < ${before} limit ${PRUNE_BATCH}) returning 1) select count(*) as n from d`,
      sql<{
        n: number;
      }>`with d as (delete from revocations where session_id in (select session_id from revocations where at < ${before} limit ${PRUNE_BATCH}) returning 1) select count(*) as n from d`,
      sql<{
        n: number;
      }>`with d as (delete from sessions where id in (select id from sessions where revoked_at < ${before} limit ${PRUNE_BATCH}) returning 1) select count(*) as n from d`,
      sql<{
        n: number;
      }>`with d as (delete from sessions where id in (select id from sessions where absolute_expires_at < ${before} limit ${PRUNE_BATCH}) returning 1) select count(*) as n from d`,
    ];
    let deleted = 0;
    for (const batch of batches) {
      for (;;) {
        const { rows } = await batch.execute(this.#db);
        const n = Number(rows[0]?.n ?? 0);
        deleted += n;
        if (n < PRUNE_BATCH) break;
      }
    }
    return deleted;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const { rows } = await sql<
      Database['signing_keys']
    >`select * from signing_keys order by created_at asc, kid collate "C" asc`.execute(this.#db);
    return rows.map(toSigningKey);
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<boolean> {
    // DO NOTHING also covers the partial unique index "one current key": a racing node loses here.
    const result = await this.#db
      .insertInto('signing_keys')
      .values(fromSigningKey(key))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return result.numInsertedOrUpdatedRows === 1n;
  }

  async setSigningKeyState(kid: string, state: SigningKeyState, at: number): Promise<void> {
    await this.#db.updateTable('signing_keys').set({ state, updated_at: at }).where('kid', '=', kid).execute();
  }

  async findUserByIdentity(issuer: string, subject: string): Promise<User | null> {
    const row = await this.#db
      .selectFrom('federated_identities as f')
      .innerJoin('users as u', 'u.id', 'f.user_id')
      .selectAll('u')
      .where('f.issuer', '=', issuer)
      .where('f.subject', '=', subject)
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async linkIdentity(link: IdentityLink): Promise<'ok' | 'identity_taken'> {
    const inserted = await this.#db
      .insertInto('federated_identities')
      .values({
        issuer: link.issuer,
        subject: link.subject,
        user_id: link.userId,
        email: link.email,
        created_at: link.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('issuer')
      .executeTakeFirst();
    return inserted ? 'ok' : 'identity_taken';
  }

  async createUserWithIdentity(
    user: User,
    passwordHash: string,
    link: IdentityLink,
  ): Promise<'ok' | 'email_taken' | 'identity_taken'> {
    const identityTaken = new Error('identity_taken');
    try {
      return await this.#db.transaction().execute(async (trx) => {
        if ((await this.#insertUser(trx, user, passwordHash)) === 'email_taken') return 'email_taken';
        const linked = await trx
          .insertInto('federated_identities')
          .values({
            issuer: link.issuer,
            subject: link.subject,
            user_id: user.id,
            email: link.email,
            created_at: link.createdAt,
          })
          .onConflict((oc) => oc.doNothing())
          .returning('issuer')
          .executeTakeFirst();
        // Throwing rolls the new user back: a federated signup is all or nothing.
        if (!linked) throw identityTaken;
        return 'ok';
      });
    } catch (error) {
      if (error === identityTaken) return 'identity_taken';
      throw error;
    }
  }

  async updateUser(
    userId: string,
    changes: UserChanges,
    options: { expectedEmail?: string } = {},
  ): Promise<'ok' | 'email_taken' | 'not_found'> {
    const set: { email?: string; email_verified?: number; disabled_at?: number | null } = {};
    if (changes.email !== undefined) set.email = changes.email;
    if (changes.emailVerified !== undefined) set.email_verified = changes.emailVerified ? 1 : 0;
    if (changes.disabledAt !== undefined) set.disabled_at = changes.disabledAt;
    const expected = options.expectedEmail;
    if (Object.keys(set).length === 0) {
      let probe = this.#db.selectFrom('users').select('id').where('id', '=', userId);
      if (expected !== undefined)
        probe = probe.where((eb) => eb(eb.fn('lower', ['email']), '=', eb.fn('lower', [eb.val(expected)])));
      return (await probe.executeTakeFirst()) ? 'ok' : 'not_found';
    }
    let query = this.#db.updateTable('users').set(set).where('id', '=', userId);
    if (expected !== undefined)
      query = query.where((eb) => eb(eb.fn('lower', ['email']), '=', eb.fn('lower', [eb.val(expected)])));
    try {
      const result = await query.executeTakeFirst();
      return result.numUpdatedRows === 1n ? 'ok' : 'not_found';
    } catch (error) {
      // 23505: the unique index on lower(email) — the new address belongs to someone else.
      if ((error as { code?: unknown }).code === '23505') return 'email_taken';
      throw error;
    }
  }

  async deleteUser(input: DeleteUserInput): Promise<string[] | null> {
    const { userId, at } = input;
    return this.#db.transaction().execute(async (trx) => {
      // The per-user lock of createSession and revokeUserSessions: no session starts meanwhile.
      const locked = await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
      if (locked.length === 0) return null;
      // Recorded as revoked before the rows go: every node learns it (bus or polling) and drops the tokens.
      const { rows } = await sql<{ id: string }>`
        with active as (
          select id from sessions
          where user_id = ${userId} and revoked_at is null and idle_expires_at > ${at} and absolute_expires_at > ${at}
        ), recorded as (
          insert into revocations (session_id, at) select id, ${at}::bigint from active on conflict do nothing
        )
        select id from active`.execute(trx);
      await trx.deleteFrom('artifacts').where('user_id', '=', userId).execute();
      const keep = [...input.keepEventTypes];
      let own = trx.deleteFrom('events').where('user_id', '=', userId);
      if (keep.length > 0) own = own.where('type', 'not in', keep);
      await own.execute();
      await trx
        .updateTable('events')
        .set({ user_id: null, session_id: null, data: null })
        .where('user_id', '=', userId)
        .execute();
      await trx.insertInto('events').values(fromEvent(input.event)).execute();
      // Credentials, sessions (with their refresh tokens) and identity links follow by ON DELETE CASCADE.
      await trx.deleteFrom('users').where('id', '=', userId).execute();
      return rows.map((r) => r.id);
    });
  }

  async listUsers(options: ListUsersOptions): Promise<UserPage> {
    const limit = Math.max(1, Math.trunc(options.limit));
    const after = options.after === undefined ? sql`true` : sql`email collate "C" > ${options.after}`;
    // strpos() instead of LIKE: the filter text is matched literally (no % or _ wildcards to escape).
    const needle =
      options.emailContains === undefined
        ? sql`true`
        : sql`strpos(lower(email), ${options.emailContains.toLowerCase()}) > 0`;
    const { rows } = await sql<Database['users']>`
      select * from users where ${after} and ${needle}
      order by email collate "C" asc limit ${limit + 1}`.execute(this.#db);
    const users = rows.slice(0, limit).map(toUser);
    const last = users.at(-1);
    return { users, nextCursor: rows.length > limit && last ? last.email : null };
  }

  async listUserSessions(userId: string, options: { limit: number }): Promise<Session[]> {
    const { rows } = await sql<SessionRow>`
      select * from sessions where user_id = ${userId}
      order by created_at desc, id collate "C" desc limit ${Math.max(1, Math.trunc(options.limit))}`.execute(this.#db);
    return rows.map(toSession);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    this.#closed ??= this.#db.destroy();
    await this.#closed;
  }
}
