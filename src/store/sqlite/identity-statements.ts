import type Database from 'better-sqlite3';
import type { IdentityLink, User } from '../../kernel/ports.js';
import type { UserRow } from '../rows.js';

/** The SQLite statements of federated identities (migration 0002), prepared once per store. */
export interface IdentityStatements {
  userByIdentity: Database.Statement<[string, string], UserRow>;
  /** Inserts a link; no row changes when the identity is linked already. */
  insertLink: (link: IdentityLink) => boolean;
  /** `BEGIN IMMEDIATE` transaction: user + credentials + link, or nothing. */
  createUserWithIdentity: Database.Transaction<
    (user: User, passwordHash: string, link: IdentityLink) => 'ok' | 'email_taken' | 'identity_taken'
  >;
}

/** Prepares the federated-identity statements on an open (migrated) database. */
export function prepareIdentityStatements(db: Database.Database): IdentityStatements {
  const userByIdentity = db.prepare<[string, string], UserRow>(
    'SELECT u.* FROM federated_identities f JOIN users u ON u.id = f.user_id WHERE f.issuer = ? AND f.subject = ?',
  );
  const insert = db.prepare<[string, string, string, string | null, number], void>(
    'INSERT INTO federated_identities (issuer, subject, user_id, email, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const userByEmail = db.prepare<[string], { id: string }>('SELECT id FROM users WHERE lower(email) = lower(?)');
  const identityExists = db.prepare<[string, string], { one: number }>(
    'SELECT 1 AS one FROM federated_identities WHERE issuer = ? AND subject = ?',
  );
  const insertUser = db.prepare<[string, string, string | null, number, number], void>(
    'INSERT INTO users (id, email, name, created_at, email_verified) VALUES (?, ?, ?, ?, ?)',
  );
  const insertCredentials = db.prepare<[string, string], void>(
    'INSERT INTO credentials (user_id, password_hash) VALUES (?, ?)',
  );
  const insertLink = (link: IdentityLink): boolean =>
    insert.run(link.issuer, link.subject, link.userId, link.email, link.createdAt).changes === 1;
  const createUserWithIdentity = db.transaction(
    (user: User, passwordHash: string, link: IdentityLink): 'ok' | 'email_taken' | 'identity_taken' => {
      if (userByEmail.get(user.email)) return 'email_taken';
      if (identityExists.get(link.issuer, link.subject)) return 'identity_taken';
      insertUser.run(user.id, user.email, user.name, user.createdAt, user.emailVerified ? 1 : 0);
      insertCredentials.run(user.id, passwordHash);
      insertLink({ ...link, userId: user.id });
      return 'ok';
    },
  );
  return { userByIdentity, insertLink, createUserWithIdentity };
}
