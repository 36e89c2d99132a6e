import type { TokenwardConfig } from '../config.js';
import type { Session } from '../kernel/ports.js';
import { describeUserAgent } from '../kernel/sessions/device.js';
import { CliFailure, openExistingStore } from './admin-store.js';
import { findUser } from './find-user.js';
import { type CliOutput, isoTime, printTable } from './output.js';
import { openRevocationService } from './revocation-service.js';

/** The `sessions` subcommands. */
export const SESSIONS_SUBCOMMANDS = ['list', 'revoke'] as const;

/** One of {@link SESSIONS_SUBCOMMANDS}. */
export type SessionsSubcommand = (typeof SESSIONS_SUBCOMMANDS)[number];

/** Options of {@link sessionsCommand}. */
export interface SessionsCommandOptions {
  /** Print JSON instead of text. */
  json?: boolean | undefined;
  /** `sessions list`: at most this many sessions, newest first (default 50). */
  limit?: number | undefined;
}

/** Default of `sessions list --limit`. */
export const DEFAULT_SESSION_LIMIT = 50;

/** Where a session stands now. */
export type SessionState = 'active' | 'revoked' | 'expired';

/**
 * `tokenward sessions list <email|id>` (every stored session of a user: device, IP, times and
 * state) and `tokenward sessions revoke <session-id>` (the same revocation as the user's
 * "sign out this session", reason `admin`: every node refuses its access tokens within 1 s).
 * Never prints a token, a device id or a refresh-token hash.
 *
 * @example
 * ```ts
 * await sessionsCommand('list', ['ada@example.com'], config, { out: console.log, err: console.error });
 * ```
 */
export async function sessionsCommand(
  sub: SessionsSubcommand,
  args: string[],
  config: TokenwardConfig,
  io: CliOutput,
  options: SessionsCommandOptions = {},
): Promise<number> {
  const ref = args[0] ?? '';
  if (sub === 'revoke') return revoke(ref, config, io, options);
  const store = await openExistingStore(config);
  try {
    const user = await findUser(store, ref);
    const now = Date.now();
    const sessions = await store.listUserSessions(user.id, { limit: options.limit ?? DEFAULT_SESSION_LIMIT });
    if (options.json) {
      io.out(
        JSON.stringify(
          { user: { id: user.id, email: user.email }, sessions: sessions.map((s) => sessionJson(s, now)) },
          null,
          2,
        ),
      );
      return 0;
    }
    if (sessions.length === 0) {
      io.out(`${user.email} has no stored session (ended sessions are pruned after the events retention).`);
      return 0;
    }
    printTable(
      io,
      ['ID', 'DEVICE', 'IP', 'CREATED', 'LAST ACTIVE', 'STATE'],
      sessions.map((s) => [
        s.id,
        describeUserAgent(s.userAgent).label,
        s.ip,
        isoTime(s.createdAt),
        isoTime(s.lastActiveAt),
        stateText(s, now),
      ]),
    );
    const active = sessions.filter((s) => stateOf(s, now) === 'active').length;
    io.out(
      `${active} active of ${sessions.length} listed. Revoke one with \`tokenward sessions revoke <id>\`, all with \`tokenward users revoke-sessions ${user.email}\`.`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function revoke(
  sessionId: string,
  config: TokenwardConfig,
  io: CliOutput,
  options: SessionsCommandOptions,
): Promise<number> {
  const admin = await openRevocationService(config);
  try {
    const session = sessionId === '' ? null : await admin.store.getSession(sessionId);
    if (!session)
      throw new CliFailure(
        `no session with id ${JSON.stringify(sessionId)} (\`tokenward sessions list <email>\` shows the ids)`,
      );
    const user = await admin.store.findUserById(session.userId);
    const revoked = await admin.service.revokeSession(session.id, 'admin', null);
    const now = Date.now();
    if (options.json) {
      io.out(JSON.stringify({ session: sessionJson(revoked ?? session, now), revoked: revoked !== null }, null, 2));
      return 0;
    }
    const label = `${session.id} of ${user?.email ?? session.userId} (${describeUserAgent(session.userAgent).label}, ${session.ip})`;
    if (revoked) {
      io.out(`Revoked session ${label} (reason: admin).`);
      io.out('Its refresh token no longer works; every node refuses its access tokens within 1 s.');
    } else {
      io.out(`Session ${label} was not active (${stateText(session, now)}): nothing changed.`);
    }
    return 0;
  } finally {
    await admin.close();
  }
}

function stateOf(s: Session, now: number): SessionState {
  if (s.revokedAt !== null) return 'revoked';
  if (s.idleExpiresAt <= now || s.absoluteExpiresAt <= now) return 'expired';
  return 'active';
}

function stateText(s: Session, now: number): string {
  const state = stateOf(s, now);
  if (state === 'revoked') return `revoked ${isoTime(s.revokedAt ?? 0)} (${s.revokeReason ?? 'unknown'})`;
  if (state === 'expired') return `expired ${isoTime(Math.min(s.idleExpiresAt, s.absoluteExpiresAt))}`;
  return `active until ${isoTime(Math.min(s.idleExpiresAt, s.absoluteExpiresAt))}`;
}

/** A session as JSON: what `GET /auth/sessions` shows plus its state (no device id, no DPoP key). */
function sessionJson(s: Session, now: number): Record<string, unknown> {
  const device = describeUserAgent(s.userAgent);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: s.id,
    state: stateOf(s, now),
    device: { browser: device.browser, os: device.os, label: device.label },
    ip: s.ip,
    createdAt: iso(s.createdAt),
    lastActiveAt: iso(s.lastActiveAt),
    expiresAt: iso(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)),
    revokedAt: iso(s.revokedAt),
    revokeReason: s.revokeReason,
    newDevice: s.newDevice,
    amr: s.amr,
    dpopBound: s.dpopJkt !== null,
  };
}
