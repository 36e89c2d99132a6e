import type { TokenwardConfig } from '../config.js';
import type { AuthEvent, User } from '../kernel/ports.js';
import { CliFailure, openExistingStore } from './admin-store.js';
import { findUser } from './find-user.js';
import { type CliOutput, isoTime, printTable } from './output.js';
import { openRevocationService } from './revocation-service.js';

/** The `users` subcommands. */
export const USERS_SUBCOMMANDS = ['list', 'show', 'revoke-sessions', 'disable', 'enable', 'delete'] as const;

/** One of {@link USERS_SUBCOMMANDS}. */
export type UsersSubcommand = (typeof USERS_SUBCOMMANDS)[number];

/** Options of {@link usersCommand}. */
export interface UsersCommandOptions {
  /** Print JSON instead of text. */
  json?: boolean | undefined;
  /** `users list`: at most this many users (default 100). */
  limit?: number | undefined;
  /** `users list`: only emails containing this text (case-insensitive). */
  emailContains?: string | undefined;
  /** `users disable|enable|delete`: do it without asking. */
  yes?: boolean | undefined;
}

/** Default of `users list --limit`. */
export const DEFAULT_USER_LIMIT = 100;
/** Events shown by `users show`. */
const SHOWN_EVENTS = 10;
/** Users fetched per store query by `users list`. */
const PAGE_SIZE = 500;

/**
 * `tokenward users list|show|revoke-sessions`. `list` and `show` only read the store;
 * `revoke-sessions <email|id>` revokes every session of the user like a logout-all (reason
 * `admin`). Never prints a password hash, a TOTP secret or a token.
 *
 * @example
 * ```ts
 * await usersCommand('show', ['ada@example.com'], config, { out: console.log, err: console.error });
 * ```
 */
export async function usersCommand(
  sub: UsersSubcommand,
  args: string[],
  config: TokenwardConfig,
  io: CliOutput,
  options: UsersCommandOptions = {},
): Promise<number> {
  if (sub === 'revoke-sessions') return revokeSessions(args[0] ?? '', config, io, options);
  if (sub === 'disable' || sub === 'enable' || sub === 'delete')
    return changeAccount(sub, args[0] ?? '', config, io, options);
  const store = await openExistingStore(config);
  try {
    if (sub === 'list') {
      const limit = options.limit ?? DEFAULT_USER_LIMIT;
      const users: User[] = [];
      let cursor: string | undefined;
      let more = false;
      for (;;) {
        const page = await store.listUsers({
          limit: Math.min(PAGE_SIZE, limit - users.length + 1),
          after: cursor,
          emailContains: options.emailContains,
        });
        users.push(...page.users);
        if (users.length > limit) {
          users.length = limit;
          more = true;
          break;
        }
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
        io.progress?.(`… ${users.length} users so far`);
      }
      if (options.json) {
        io.out(JSON.stringify({ users: users.map(userJson), more }, null, 2));
        return 0;
      }
      if (users.length === 0) {
        io.out(
          options.emailContains === undefined
            ? 'No users yet.'
            : `No user's email contains ${JSON.stringify(options.emailContains)}.`,
        );
        return 0;
      }
      printTable(
        io,
        ['ID', 'EMAIL', 'NAME', 'CREATED'],
        users.map((u) => [u.id, u.email, u.name ?? '', isoTime(u.createdAt)]),
      );
      if (more) io.out(`(first ${limit} users; more match: raise --limit or narrow with --email-contains)`);
      return 0;
    }

    const user = await findUser(store, args[0] ?? '');
    const now = Date.now();
    const [credentials, active, events] = await Promise.all([
      store.getCredentials(user.id),
      store.listActiveSessions(user.id, now),
      store.listEvents(user.id, { limit: SHOWN_EVENTS }),
    ]);
    const totpAt = credentials?.totpSecretSealed != null ? credentials.totpConfirmedAt : null;
    if (options.json) {
      io.out(
        JSON.stringify(
          {
            user: userJson(user),
            disabledAt: user.disabledAt == null ? null : new Date(user.disabledAt).toISOString(),
            totp: { enabled: totpAt !== null, confirmedAt: totpAt === null ? null : new Date(totpAt).toISOString() },
            activeSessions: active.length,
            events: events.events.map(eventJson),
          },
          null,
          2,
        ),
      );
      return 0;
    }
    io.out(`User       ${user.id}`);
    io.out(`Email      ${user.email}`);
    io.out(`Name       ${user.name ?? '(none)'}`);
    io.out(`Created    ${isoTime(user.createdAt)}`);
    io.out(`Verified   ${user.emailVerified ? 'yes' : 'no'}`);
    io.out(`Status     ${user.disabledAt == null ? 'active' : `disabled (since ${isoTime(user.disabledAt)})`}`);
    io.out(`TOTP       ${totpAt === null ? 'off' : `on (since ${isoTime(totpAt)})`}`);
    io.out(
      `Sessions   ${active.length} active${active.length > 0 ? ` (\`tokenward sessions list ${user.email}\`)` : ''}`,
    );
    if (events.events.length === 0) {
      io.out('Events     none');
      return 0;
    }
    io.out(`Last ${events.events.length} events (newest first):`);
    printTable(
      io,
      ['  AT', 'EVENT', 'IP', 'DEVICE', 'SESSION', 'DETAIL'],
      events.events.map((e) => [
        `  ${isoTime(e.at)}`,
        e.type,
        e.ip ?? '',
        e.device ?? '',
        e.sessionId ?? '',
        eventDetail(e),
      ]),
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function revokeSessions(
  ref: string,
  config: TokenwardConfig,
  io: CliOutput,
  options: UsersCommandOptions,
): Promise<number> {
  const admin = await openRevocationService(config);
  try {
    const user = await findUser(admin.store, ref);
    const revoked = await admin.service.revokeUserSessions(user.id, 'admin', null);
    if (options.json) {
      io.out(JSON.stringify({ user: userJson(user), revoked }, null, 2));
    } else if (revoked.length === 0) {
      io.out(`${user.email} had no active session: nothing revoked (the attempt is recorded as an event).`);
    } else {
      io.out(`Revoked ${revoked.length} session${revoked.length === 1 ? '' : 's'} of ${user.email} (reason: admin).`);
      io.out('Their refresh tokens no longer work; every node refuses their access tokens within 1 s.');
    }
    return 0;
  } finally {
    await admin.close();
  }
}

/**
 * `users disable|enable|delete <email|id>`: through the same kernel the servers run, so the
 * sessions it ends reach every node like a logout-all (Redis at once when configured, else by
 * polling within 1 s). Asks for a confirmation unless `--yes`: `y` to disable or enable, the
 * account's email to delete.
 */
async function changeAccount(
  sub: 'disable' | 'enable' | 'delete',
  ref: string,
  config: TokenwardConfig,
  io: CliOutput,
  options: UsersCommandOptions,
): Promise<number> {
  const admin = await openRevocationService(config);
  try {
    const user = await findUser(admin.store, ref);
    if (!options.yes) {
      const question =
        sub === 'delete'
          ? `Delete ${user.email} and everything of it (sessions, credentials, links, its own events)? This cannot be undone. Type the email to confirm: `
          : sub === 'disable'
            ? `Disable ${user.email}? Every session ends and no login works until it is enabled. [y/N] `
            : `Enable ${user.email} again? [y/N] `;
      const answer = ((await io.ask?.(question)) ?? '').trim();
      const confirmed = sub === 'delete' ? answer.toLowerCase() === user.email.toLowerCase() : /^y(es)?$/i.test(answer);
      if (!confirmed) {
        io.err('Nothing changed (not confirmed; --yes skips the question).');
        return 1;
      }
    }
    if (sub === 'delete') {
      const ended = await admin.service.deleteUser(user.id, null);
      if (ended === null) throw new CliFailure(`no user with id ${JSON.stringify(user.id)}`);
      if (options.json) io.out(JSON.stringify({ user: userJson(user), deleted: true, sessionsEnded: ended }, null, 2));
      else
        io.out(
          `Deleted ${user.email}: ${ended} active session${ended === 1 ? '' : 's'} ended (every node refuses their tokens within 1 s); security events kept without the user.`,
        );
      return 0;
    }
    const ended = await admin.service.setUserDisabled(user.id, sub === 'disable', null);
    if (ended === null) throw new CliFailure(`no user with id ${JSON.stringify(user.id)}`);
    if (options.json)
      io.out(JSON.stringify({ user: userJson(user), disabled: sub === 'disable', sessionsEnded: ended }, null, 2));
    else if (sub === 'disable')
      io.out(
        `Disabled ${user.email}: ${ended} session${ended === 1 ? '' : 's'} ended; login, refresh and token requests answer 403 account_disabled.`,
      );
    else io.out(`Enabled ${user.email}: the account can sign in again.`);
    return 0;
  } finally {
    await admin.close();
  }
}

/** A user as JSON: the API's `user` shape (no credentials). */
function userJson(u: User): {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  createdAt: string;
} {
  return {
    id: u.id,
    email: u.email,
    emailVerified: u.emailVerified,
    name: u.name,
    createdAt: new Date(u.createdAt).toISOString(),
  };
}

/** An event as JSON: what `GET /auth/events` shows, plus the revocation reason/count (never the device markers). */
function eventJson(e: AuthEvent): Record<string, unknown> {
  return {
    type: e.type,
    at: new Date(e.at).toISOString(),
    ip: e.ip,
    device: e.device,
    sessionId: e.sessionId,
    ...eventData(e),
  };
}

function eventData(e: AuthEvent): { reason?: string; count?: number } {
  const out: { reason?: string; count?: number } = {};
  if (typeof e.data?.reason === 'string') out.reason = e.data.reason;
  if (typeof e.data?.count === 'number') out.count = e.data.count;
  return out;
}

function eventDetail(e: AuthEvent): string {
  const { reason, count } = eventData(e);
  return [reason === undefined ? '' : `reason=${reason}`, count === undefined ? '' : `count=${count}`]
    .filter(Boolean)
    .join(' ');
}
