import type Database from 'better-sqlite3';
import type { ListUsersOptions, Session, UserPage } from '../../kernel/ports.js';
import { type SessionRow, toSession, toUser, type UserRow } from '../rows.js';

/** The SQLite queries of administration (`tokenward users|sessions`), prepared once per store. */
export interface AdminStatements {
  listUsers: (options: ListUsersOptions) => UserPage;
  listUserSessions: (userId: string, limit: number) => Session[];
}

/** Prepares the administration statements on an open (migrated) database. */
export function prepareAdminStatements(db: Database.Database): AdminStatements {
  // instr() instead of LIKE: the filter text is matched literally (no % or _ wildcards to escape).
  // Emails are stored lowercase; `email` compares in BINARY (byte) order, like the other stores.
  const users = db.prepare<[{ after: string | null; needle: string | null; limit: number }], UserRow>(
    `SELECT * FROM users
     WHERE (@after IS NULL OR email > @after) AND (@needle IS NULL OR instr(lower(email), @needle) > 0)
     ORDER BY email ASC LIMIT @limit`,
  );
  const sessions = db.prepare<[string, number], SessionRow>(
    'SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
  );
  return {
    listUsers(options) {
      const limit = Math.max(1, Math.trunc(options.limit));
      const rows = users.all({
        after: options.after ?? null,
        needle: options.emailContains?.toLowerCase() ?? null,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit).map(toUser);
      const last = page.at(-1);
      return { users: page, nextCursor: rows.length > limit && last ? last.email : null };
    },
    listUserSessions(userId, limit) {
      return sessions.all(userId, Math.max(1, Math.trunc(limit))).map(toSession);
    },
  };
}
