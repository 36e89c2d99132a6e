import { Actor, type Answer, COOKIE } from './actors.js';
import { type BurstContext, bearer } from './operations.js';
import { FREE_FAILURES, passwordKey, type SessionModel, totpKey, type UserModel, type World } from './world.js';

/** API.md "Tokens": a revoked session's token is rejected within 1 s, on every node. */
export const REVOCATION_DEADLINE_MS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * At most this many evaluated checks of one key within `spanMs` when none succeeds: the free
 * failures, then one per backoff window (1 s, 2 s, 4 s … after the fifth), whatever the key's
 * earlier state. A burst faster than 1 s gets exactly the free failures.
 */
export function attemptBound(spanMs: number): number {
  return FREE_FAILURES + Math.floor(Math.log2(1 + Math.max(0, spanMs) / 1000));
}

/** The checks run once a burst has settled, on what it did. */
export async function afterBurst(ctx: BurstContext, stats: CheckStats): Promise<void> {
  judgeTokens(ctx);
  judgeAttempts(ctx.world);
  judgeGrants(ctx.world);
  await Promise.all([checkRevocations(ctx, stats), checkSessionLists(ctx, stats)]);
  stats.audits += await checkAuditTrails(ctx.world, ctx.urls);
}

/** What the checks looked at (for the summary). */
export interface CheckStats {
  revokedSessions: number;
  probes: number;
  lists: number;
  audits: number;
}

/**
 * Every refresh token presented in this burst: all 200 answers to it carry one successor and went
 * to one presenter; presented by two identities while its session was live, the session ends revoked.
 */
function judgeTokens(ctx: BurstContext): void {
  const { world } = ctx;
  for (const [token, list] of world.presentations) {
    if (!list.some((p) => p.burst === world.burst)) continue;
    const oks = list.filter((p) => p.answer.status === 200);
    const describe = (): string =>
      list
        .map(
          (p) =>
            `${p.actor}@n${p.answer.node}(burst ${p.burst}): ${p.answer.status}${p.answer.code ? ` ${p.answer.code}` : ''}`,
        )
        .join('; ');
    const successors = new Set(oks.map((p) => p.successor));
    world.expect(
      successors.size <= 1,
      'one-successor',
      () => `one refresh token got ${successors.size} different successors: ${describe()}`,
    );
    const winners = new Set(oks.map((p) => p.identity));
    world.expect(
      winners.size <= 1,
      'other-device-is-reuse',
      () => `the successor of one refresh token went to ${winners.size} presenters: ${describe()}`,
    );
    const session = world.tokenSession.get(token);
    if (!session || !ctx.liveAtStart.has(session)) continue;
    const identities = new Set(list.map((p) => p.identity));
    world.expect(
      identities.size <= 1 || !session.alive,
      'other-device-is-reuse',
      () =>
        `a refresh token of session ${session.id} was presented by ${identities.size} devices and the session is still live: ${describe()}`,
    );
  }
}

/** Wrong secrets for one key within one burst: evaluated at most as often as the backoff allows. */
function judgeAttempts(world: World): void {
  const byKey = new Map<string, typeof world.checks>();
  for (const check of world.checks) {
    if (check.burst !== world.burst) continue;
    byKey.set(check.key, [...(byKey.get(check.key) ?? []), check]);
  }
  for (const [key, checks] of byKey) {
    // A success clears the attempts reserved before it: the bound is exact for wrong-only bursts.
    if (checks.some((c) => c.succeeded) || !checks.some((c) => c.wrong)) continue;
    const evaluated = checks.filter((c) => c.evaluated).length;
    const span = Math.max(...checks.map((c) => c.answer.recvAt)) - Math.min(...checks.map((c) => c.answer.sentAt));
    const bound = attemptBound(span);
    world.expect(
      evaluated <= bound,
      'attempts-bounded',
      () =>
        `${evaluated} of ${checks.length} wrong secrets for ${key.replace(/-[0-9a-f]{8}@example\.com$/, '')} were evaluated within ${Math.round(span)} ms (at most ${bound} may be)`,
    );
  }
}

function judgeGrants(world: World): void {
  for (const record of world.grants.values()) {
    if (record.successes <= 1 || record.reported) continue;
    record.reported = true;
    world.fail(
      'grant-once',
      `one step-up grant of session ${record.session.id} answered ${record.successes} guarded calls with 2xx (of ${record.calls})`,
    );
  }
}

/**
 * Sessions revoked in this burst: each access token ever issued to them is refused on every node
 * by any request sent more than 1 s after the revocation was answered (polled until refused), and
 * their refresh tokens are refused on every node at once.
 */
async function checkRevocations(ctx: BurstContext, stats: CheckStats): Promise<void> {
  const { world, urls } = ctx;
  const revoked = [...world.sessions.values()].filter((s) => s.revokedBurst === world.burst);
  stats.revokedSessions += revoked.length;
  await Promise.all(
    revoked.flatMap((session) => [
      ...urls.flatMap((_, node) =>
        [...session.accessTokens].map((token) => pollUntilRefused(ctx, session, node, token, stats)),
      ),
      ...urls.map((_, node) => refreshRefused(ctx, session, node)),
    ]),
  );
}

async function pollUntilRefused(
  ctx: BurstContext,
  session: SessionModel,
  node: number,
  token: string,
  stats: { probes: number },
): Promise<void> {
  const { world } = ctx;
  const revokedAt = session.revokedAt ?? 0;
  for (;;) {
    const answer = await bearer(ctx, node, '/api/ping/protected', token);
    stats.probes++;
    if (answer.status === 401) {
      world.expect(
        answer.code === 'invalid_token',
        'contract',
        () => `a revoked session's access token answered 401 ${answer.code} (expected invalid_token)`,
      );
      // The store-reading route refuses it too (not only the cached fast path).
      const profile = await bearer(ctx, node, '/api/profile', token);
      world.expect(
        profile.status === 401,
        'revoked-refused-everywhere',
        () =>
          `node ${node} refused a revoked access token on /api/ping/protected but /api/profile answered ${profile.status}`,
      );
      return;
    }
    if (answer.status !== 200) {
      world.fail('contract', `an access token probe answered ${answer.status} ${answer.code ?? ''}`);
      return;
    }
    if (answer.sentAt > revokedAt + REVOCATION_DEADLINE_MS) {
      world.fail(
        'revoked-refused-everywhere',
        `node ${node} still accepts an access token of session ${session.id} ${Math.round(answer.sentAt - revokedAt)} ms after its revocation (${session.revokedHow})`,
      );
      return;
    }
    await sleep(20);
  }
}

async function refreshRefused(ctx: BurstContext, session: SessionModel, node: number): Promise<void> {
  const tokens = [...new Set([session.refreshTokens[0], session.refreshTokens.at(-1)])].filter(
    (t): t is string => t !== undefined,
  );
  for (const token of tokens) {
    // Presented from the device that started the session, as its browser would.
    const device =
      session.device === undefined ? ({ kind: 'none' } as const) : ({ kind: 'forged', id: session.device } as const);
    const probe = new Actor('probe', 'tokenward-concurrency-probe', '192.0.2.1', device);
    const cookies = new Map<string, string>([[COOKIE.refresh, token]]);
    const answer = ctx.world.seen(
      probe,
      await probe.send(ctx.urls, node, '/auth/refresh', { method: 'POST', cookies }),
      false,
    );
    ctx.world.expect(
      answer.status === 401,
      'revoked-refused-everywhere',
      () =>
        `node ${node} answered ${answer.status} to a refresh token of session ${session.id}, revoked (${session.revokedHow})`,
    );
  }
}

/** `GET /auth/sessions` of a user's live browser lists exactly the sessions the run knows live. */
async function checkSessionLists(ctx: BurstContext, stats: CheckStats): Promise<void> {
  const { world } = ctx;
  await Promise.all(
    world.users.map(async (user) => {
      const reader = user.browsers.find((b) => b.session?.alive);
      if (!reader) return;
      stats.lists++;
      const answer = world.seen(reader.actor, await reader.actor.send(ctx.urls, world.burst, '/auth/sessions'), true);
      if (answer.status !== 200) {
        world.fail(
          'sessions-listed',
          `${reader.actor.name}'s GET /auth/sessions with a live session answered ${answer.status} ${answer.code ?? ''}`,
        );
        return;
      }
      const listed = new Set(((answer.body.sessions ?? []) as Array<{ id: string }>).map((s) => s.id));
      const live = new Set(user.sessions.filter((s) => s.alive).map((s) => s.id));
      const extra = [...listed].filter((id) => !live.has(id));
      const missing = [...live].filter((id) => !listed.has(id));
      world.expect(extra.length === 0 && missing.length === 0, 'sessions-listed', () => {
        const why = (id: string): string => world.sessions.get(id)?.revokedHow ?? 'unknown to the run';
        return `u${user.index}'s sessions list: listed but revoked ${extra.map((id) => `${id} (${why(id)})`).join(', ') || 'none'}; live but missing ${missing.join(', ') || 'none'}`;
      });
    }),
  );
}

/**
 * The audit trail agrees with the answers: one `login.failed` per evaluated wrong password at
 * login, one `step_up.failed` per refused step-up, one `login.second_factor_failed` per refused
 * second step, and per session as many `refresh.reuse_detected` as `refresh_reused` answers.
 * Read through a live browser of each user after every burst; returns how many users were checked.
 */
async function checkAuditTrails(world: World, urls: string[]): Promise<number> {
  let checked = 0;
  await Promise.all(
    world.users.map(async (user) => {
      const reader = user.browsers.find((b) => b.session?.alive);
      if (!reader) return;
      const events = await readEvents(world, urls, reader.actor, user, world.burst);
      if (events === null) return;
      checked++;
      const count = (type: string): number => events.filter((e) => e.type === type).length;
      const answered = (endpoint: string, code: string): number =>
        world.checks.filter((c) => c.endpoint === endpoint && c.answer.code === code && ownsKey(user, c.key)).length;
      const pairs: Array<[string, number, number]> = [
        ['login.failed', count('login.failed'), answered('login', 'invalid_credentials')],
        ['step_up.failed', count('step_up.failed'), answered('step-up', 'invalid_credentials')],
        ['login.second_factor_failed', count('login.second_factor_failed'), answered('login-totp', 'invalid_code')],
      ];
      for (const [type, recorded, seen] of pairs) {
        world.expect(
          recorded === seen,
          'audit-trail',
          () => `u${user.index}: ${recorded} ${type} events for ${seen} such answers`,
        );
      }
      for (const session of user.sessions) {
        const recorded = events.filter((e) => e.type === 'refresh.reuse_detected' && e.sessionId === session.id).length;
        world.expect(
          recorded === session.reuseAnswers,
          'audit-trail',
          () =>
            `session ${session.id}: ${recorded} refresh.reuse_detected events for ${session.reuseAnswers} refresh_reused answers`,
        );
      }
    }),
  );
  return checked;
}

function ownsKey(user: UserModel, key: string): boolean {
  return key === passwordKey(user.email) || key === totpKey(user);
}

async function readEvents(
  world: World,
  urls: string[],
  reader: Actor,
  user: UserModel,
  node: number,
): Promise<Array<{ type: string; sessionId: string | null }> | null> {
  const events: Array<{ type: string; sessionId: string | null }> = [];
  let before: string | null = null;
  for (let page = 0; page < 20; page++) {
    const query: string = before === null ? '' : `&before=${encodeURIComponent(before)}`;
    const answer: Answer = world.seen(
      reader,
      await reader.send(urls, node + page, `/auth/events?limit=100${query}`),
      true,
    );
    if (answer.status !== 200) {
      world.fail('audit-trail', `u${user.index}'s GET /auth/events answered ${answer.status} ${answer.code ?? ''}`);
      return null;
    }
    events.push(...(answer.body.events as Array<{ type: string; sessionId: string | null }>));
    before = typeof answer.body.nextCursor === 'string' ? answer.body.nextCursor : null;
    if (before === null) return events;
  }
  return events;
}
