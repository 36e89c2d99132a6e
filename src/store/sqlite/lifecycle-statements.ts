import type Database from 'better-sqlite3';
import type { DeleteUserInput, UserChanges } from '../../kernel/ports.js';
import { fromEvent } from '../rows.js';

/** The SQLite statements of the account lifecycle (email change and verification, disable, deletion). */
export interface LifecycleStatements {
  updateUser: (
    userId: string,
    changes: UserChanges,
    options: { expectedEmail?: string },
  ) => 'ok' | 'email_taken' | 'not_found';
  /** `BEGIN IMMEDIATE` transaction: everything of the user, or nothing. */
  deleteUser: Database.Transaction<(input: DeleteUserInput) => string[] | null>;
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Prepares the lifecycle statements on an open (migrated) database. */
export function prepareLifecycleStatements(db: Database.Database): LifecycleStatements {
  const update = db.prepare<
    [
      {
        id: string;
        set_email: number;
        email: string | null;
        set_verified: number;
        verified: number | null;
        set_disabled: number;
        disabled: number | null;
        expected: string | null;
      },
    ],
    void
  >(
    `UPDATE users SET
       email = CASE WHEN @set_email = 1 THEN @email ELSE email END,
       email_verified = CASE WHEN @set_verified = 1 THEN @verified ELSE email_verified END,
       disabled_at = CASE WHEN @set_disabled = 1 THEN @disabled ELSE disabled_at END
     WHERE id = @id AND (@expected IS NULL OR lower(email) = lower(@expected))`,
  );
  const userExists = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM users WHERE id = ?');
  const activeSessionIds = db.prepare<[string, number, number], { id: string }>(
    'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND idle_expires_at > ? AND absolute_expires_at > ?',
  );
  const insertRevocation = db.prepare<[string, number], void>(
    'INSERT INTO revocations (session_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const deleteArtifacts = db.prepare<[string], void>('DELETE FROM artifacts WHERE user_id = ?');
  const deleteOwnEvents = db.prepare<[string, string], void>(
    'DELETE FROM events WHERE user_id = ? AND type NOT IN (SELECT value FROM json_each(?))',
  );
  const anonymiseEvents = db.prepare<[string], void>(
    'UPDATE events SET user_id = NULL, session_id = NULL, data = NULL WHERE user_id = ?',
  );
  const insertEvent = db.prepare(
    'INSERT INTO events (id, user_id, type, at, ip, session_id, device, data) VALUES (@id, @user_id, @type, @at, @ip, @session_id, @device, @data)',
  );
  // Credentials, sessions (with their refresh tokens) and identity links follow by ON DELETE CASCADE.
  const deleteUserRow = db.prepare<[string], void>('DELETE FROM users WHERE id = ?');

  const deleteUser = db.transaction((input: DeleteUserInput): string[] | null => {
    const { userId, at } = input;
    if (!userExists.get(userId)) return null;
    // Recorded as revoked before the rows go: every node polls `revocations` and drops the tokens.
    const active = activeSessionIds.all(userId, at, at).map((r) => r.id);
    for (const id of active) insertRevocation.run(id, at);
    deleteArtifacts.run(userId);
    deleteOwnEvents.run(userId, JSON.stringify(input.keepEventTypes));
    anonymiseEvents.run(userId);
    insertEvent.run(fromEvent(input.event));
    deleteUserRow.run(userId);
    return active;
  });

  return {
    updateUser(userId, changes, options) {
      try {
        const result = update.run({
          id: userId,
          set_email: changes.email === undefined ? 0 : 1,
          email: changes.email ?? null,
          set_verified: changes.emailVerified === undefined ? 0 : 1,
          verified: changes.emailVerified === undefined ? null : changes.emailVerified ? 1 : 0,
          set_disabled: changes.disabledAt === undefined ? 0 : 1,
          disabled: changes.disabledAt ?? null,
          expected: options.expectedEmail ?? null,
        });
        return result.changes === 1 ? 'ok' : 'not_found';
      } catch (error) {
        // The unique index on lower(email): the new address belongs to someone else.
        if (isUniqueViolation(error)) return 'email_taken';
        throw error;
      }
    },
    deleteUser,
  };
}
