import type { AuthEvent, Session, User } from '../../kernel/ports.js';
import { describeUserAgent } from '../../kernel/sessions/device.js';
import type { ServerContext } from '../../server/context.js';
import { iso } from '../../server/http.js';
import { sqlAccessOf } from '../../store/sql-access.js';

/** Events and sessions exported at most (a lifetime of activity, bounded so one export cannot exhaust memory). */
const MAX_ROWS = 10_000;

/**
 * The user's own data, as `GET /auth/account/export` answers it: the profile, the second-factor
 * state, every stored session (with device, IP, times, how it ended), the audit trail and the
 * linked identities, and what the features add (`ctx.accountExports`: the passkeys). Never a password or TOTP hash or secret, a token, a device id or the device
 * markers of new-device detection: what a copy of the file could be used for is nothing.
 *
 * @example
 * ```ts
 * const data = await exportAccount(ctx, user, session.sessionId);
 * ```
 */
export async function exportAccount(ctx: ServerContext, user: User, currentSessionId: string): Promise<unknown> {
  const [credentials, sessions, events, identities, ...fromFeatures] = await Promise.all([
    ctx.store.getCredentials(user.id),
    ctx.store.listUserSessions(user.id, { limit: MAX_ROWS }),
    allEvents(ctx, user.id),
    linkedIdentities(ctx, user.id),
    // What other features hold (passkeys, …): one top-level entry each, never key material.
    ...ctx.accountExports.map((exportOf) => exportOf(user.id)),
  ]);
  const totpOn = credentials?.totpSecretSealed != null && credentials.totpConfirmedAt !== null;
  return {
    exportedAt: iso(ctx.clock.now()),
    user: {
      id: user.id,
      email: user.email,
      emailVerified: user.emailVerified,
      name: user.name,
      createdAt: iso(user.createdAt),
    },
    security: {
      twoFactor: {
        totp: totpOn,
        since: totpOn && credentials?.totpConfirmedAt ? iso(credentials.totpConfirmedAt) : null,
      },
    },
    sessions: sessions.map((s) => sessionJson(s, currentSessionId, ctx.clock.now())),
    events: events.map((e) => ({
      type: e.type,
      at: iso(e.at),
      ip: e.ip,
      device: e.device,
      sessionId: e.sessionId,
    })),
    identities,
    ...Object.assign({}, ...fromFeatures),
  };
}

function sessionJson(s: Session, currentId: string, now: number): Record<string, unknown> {
  const device = describeUserAgent(s.userAgent);
  const state =
    s.revokedAt !== null ? 'revoked' : s.idleExpiresAt <= now || s.absoluteExpiresAt <= now ? 'expired' : 'active';
  return {
    id: s.id,
    current: s.id === currentId,
    state,
    device: { browser: device.browser, os: device.os, label: device.label },
    userAgent: s.userAgent,
    ip: s.ip,
    createdAt: iso(s.createdAt),
    lastActiveAt: iso(s.lastActiveAt),
    expiresAt: iso(Math.min(s.idleExpiresAt, s.absoluteExpiresAt)),
    revokedAt: s.revokedAt === null ? null : iso(s.revokedAt),
    revokeReason: s.revokeReason,
    methods: s.amr,
  };
}

async function allEvents(ctx: ServerContext, userId: string): Promise<AuthEvent[]> {
  const out: AuthEvent[] = [];
  let before: string | undefined;
  while (out.length < MAX_ROWS) {
    const page = await ctx.store.listEvents(userId, { limit: 500, before });
    out.push(...page.events);
    if (page.nextCursor === null) break;
    before = page.nextCursor;
  }
  return out.slice(0, MAX_ROWS);
}

/** Identity links (OIDC) of the user; the in-memory store keeps them private (none are listed). */
async function linkedIdentities(ctx: ServerContext, userId: string): Promise<Array<Record<string, unknown>>> {
  const access = sqlAccessOf(ctx.store);
  if (access === null) return [];
  const rows = await access.db
    .selectFrom('federated_identities')
    .select(['issuer', 'subject', 'email', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => ({
    issuer: r.issuer,
    subject: r.subject,
    email: r.email,
    linkedAt: iso(Number(r.created_at)),
  }));
}
