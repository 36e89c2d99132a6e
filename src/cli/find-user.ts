import type { Store, User } from '../kernel/ports.js';
import { normalizeEmail } from '../kernel/users/normalize-email.js';
import { CliFailure } from './admin-store.js';

/**
 * Finds the user an administrator named on the command line: an email (anything with `@`,
 * compared case-insensitively like at login) or a user id. Throws {@link CliFailure} naming
 * what was looked up when there is no such user.
 *
 * @example
 * ```ts
 * const user = await findUser(store, 'Ada@Example.com');
 * ```
 */
export async function findUser(store: Store, ref: string): Promise<User> {
  const text = ref.trim();
  if (text.includes('@')) {
    const user = await store.findUserByEmail(normalizeEmail(text) ?? text.toLowerCase());
    if (!user) throw new CliFailure(`no user with email ${JSON.stringify(text)}`);
    return user;
  }
  const user = text === '' ? null : await store.findUserById(text);
  if (!user)
    throw new CliFailure(
      `no user with id ${JSON.stringify(text)} (give an email or a user id; \`tokenward users list\` shows both)`,
    );
  return user;
}
