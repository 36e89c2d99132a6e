import { PASSWORD, totpCode } from '../support/account.js';
import { Actor, type Answer, COOKIE, type SendOptions } from './actors.js';
import type { Op } from './plan.js';
import type { Rng } from './prng.js';
import {
  type BrowserModel,
  FREE_FAILURES,
  type Invariant,
  passwordKey,
  type SessionModel,
  type ThiefModel,
  totpKey,
  type UserModel,
  type World,
} from './world.js';

export const THIEF_AGENTS = ['curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'];
/** Forwarded addresses of password guessers (TOKENWARD_TRUST_PROXY=1): IPv4 and IPv6 networks. */
export const GUESSER_IPS = [
  '198.51.100.21',
  '198.51.100.22',
  '198.51.100.23',
  '203.0.113.200',
  '2001:db8:1::7',
  '2001:db8:2::7',
  '2001:db8:3::7',
  '192.0.2.44',
];
const PERIOD_MS = 30_000;

/** Everything an operation needs: the model, the nodes, a PRNG for values (wrong secrets), and the burst's view. */
export interface BurstContext {
  world: World;
  urls: string[];
  rng: Rng;
  /** Tag of this run (emails of unknown accounts). */
  nonce: string;
  /** Each browser's session when the burst started. */
  sessionAtStart: Map<BrowserModel, SessionModel | null>;
  /** Sessions live when the burst started. */
  liveAtStart: Set<SessionModel>;
  /** Operations of this burst that may end a session. */
  risks: Map<SessionModel, Op[]>;
  /** Operations of this burst that present a refresh token of a session. */
  presenters: Map<SessionModel, Op[]>;
  /** Wrong secrets the plan sends to each key in this burst. */
  wrongCounts: Map<string, number>;
  browser(user: number, index: number): BrowserModel;
  thief(index: number): ThiefModel;
  user(index: number): UserModel;
}

/**
 * Whether the run can say exactly what the server must answer to `op` about `session`: the
 * session was live at the burst's start, nothing else in the burst may end it, and (for
 * refresh presentations) nothing else presents its tokens.
 */
function exact(
  ctx: BurstContext,
  session: SessionModel | null | undefined,
  op: Op,
  presenting = false,
): session is SessionModel {
  if (!session || !ctx.liveAtStart.has(session)) return false;
  if ((ctx.risks.get(session) ?? []).some((o) => o !== op)) return false;
  return !presenting || (ctx.presenters.get(session) ?? []).every((o) => o === op);
}

/**
 * Whether a legitimate secret check may meet the backoff: the failures the limiter may still
 * count, those planned in this burst, and two for racing checks that lose, reach the free five.
 */
function mayBackOff(ctx: BurstContext, key: string): boolean {
  return ctx.world.failuresSinceSuccess(key) + (ctx.wrongCounts.get(key) ?? 0) + 2 >= FREE_FAILURES;
}

function send(
  ctx: BurstContext,
  actor: Actor,
  node: number,
  path: string,
  options: SendOptions,
  isBrowser: boolean,
): Promise<Answer> {
  return actor.send(ctx.urls, node, path, options).then((answer) => ctx.world.seen(actor, answer, isBrowser));
}

/** A request without cookies, with `Authorization: Bearer` (a probe of an access token). */
export function bearer(
  ctx: { urls: string[]; world: World },
  node: number,
  path: string,
  token: string,
): Promise<Answer> {
  const probe = new Actor('probe', 'tokenward-concurrency-probe', '192.0.2.1', { kind: 'none' });
  return probe
    .send(ctx.urls, node, path, { cookies: new Map(), headers: { authorization: `Bearer ${token}` } })
    .then((a) => ctx.world.seen(probe, a, false));
}

function statusList(answers: Answer[]): string {
  return answers.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''}@n${a.node}`).join(', ');
}

function expectAll(
  ctx: BurstContext,
  answers: Answer[],
  ok: (a: Answer) => boolean,
  invariant: Invariant,
  what: string,
): void {
  ctx.world.expect(answers.every(ok), invariant, () => `${what}: got ${statusList(answers)}`);
}

/** The TOTP step a legitimate check uses now: the next unused one that is still accepted, or null. */
function nextTotpStep(user: UserModel): number | null {
  if (!user.totp) return null;
  const current = Math.floor(Date.now() / PERIOD_MS);
  const step = Math.max(user.totp.lastStep + 1, current);
  // A step beyond current+1 could turn valid while the request travels: never sent as "wrong".
  return step <= current + 1 ? step : null;
}

/** A code that is wrong for every step the server could accept while the request travels. */
function wrongTotpCode(rng: Rng, user: UserModel): string {
  const secret = user.totp?.secret ?? '';
  const current = Math.floor(Date.now() / PERIOD_MS);
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => totpCode(secret, (current + d) * PERIOD_MS)));
  let code = rng.int(1_000_000);
  while (valid.has(String(code).padStart(6, '0'))) code = (code + 1) % 1_000_000;
  return String(code).padStart(6, '0');
}

function thiefWithCopy(name: string, rng: Rng, source: Actor): { actor: Actor; cookies: Map<string, string> } {
  const actor = new Actor(name, rng.pick(THIEF_AGENTS), `198.51.100.${100 + rng.int(100)}`, { kind: 'none' });
  const cookies = new Map(source.jar);
  cookies.delete(COOKIE.device);
  return { actor, cookies };
}

/** Records a refresh presentation and what its answer shows about the session. */
function recordPresentation(
  ctx: BurstContext,
  session: SessionModel | undefined,
  token: string,
  identity: string,
  actor: Actor,
  answer: Answer,
): void {
  const { world } = ctx;
  const successor = answer.status === 200 ? (answer.setCookies.get(COOKIE.refresh) ?? undefined) : undefined;
  world.presented({ token, identity, actor: actor.name, answer, burst: world.burst, successor });
  if (!session) return;
  if (answer.status === 200) world.issued(session, answer);
  if (answer.code === 'refresh_reused') {
    session.reuseAnswers++;
    world.revoked(session, answer.recvAt, `refresh_reused to ${actor.name}`);
  } else if (answer.code === 'session_expired' && ctx.liveAtStart.has(session)) {
    world.revoked(session, answer.recvAt, `session_expired to ${actor.name}`);
  }
}

/**
 * What a burst of presentations of one token must get, when nothing else in the burst touches
 * its session: all refused once it was rotated by someone else (at least one `refresh_reused`);
 * a live token presented by one identity is rotated once (all 200, one successor); presented by
 * two identities at once it is reuse (at most one 200).
 */
function judgePresentations(
  ctx: BurstContext,
  op: Op,
  session: SessionModel | undefined,
  token: string,
  identities: string[],
  answers: Answer[],
  who: string,
): void {
  const { world } = ctx;
  if (!session) return;
  if (!ctx.liveAtStart.has(session)) {
    expectAll(
      ctx,
      answers,
      (a) => a.status === 401,
      'revoked-refused-everywhere',
      `${who} presented a refresh token of session ${session.id}, revoked in burst ${session.revokedBurst} (${session.revokedHow})`,
    );
    return;
  }
  if (!exact(ctx, session, op, true)) return;
  const rotatedBy = world.rotatedBefore(token);
  const reused = answers.filter((a) => a.code === 'refresh_reused').length;
  if (rotatedBy !== null && identities.some((id) => id !== rotatedBy)) {
    world.expect(
      answers.every((a) => a.status === 401) && reused >= 1,
      'other-device-is-reuse',
      () =>
        `${who} presented a token rotated by another device: expected 401 refresh_reused, got ${statusList(answers)}`,
    );
  } else if (rotatedBy === null && new Set(identities).size > 1) {
    world.expect(
      reused >= 1 && answers.filter((a) => a.status === 200).length <= 1,
      'other-device-is-reuse',
      () =>
        `${who} presented one live token as ${new Set(identities).size} devices at once: expected refresh_reused, got ${statusList(answers)}`,
    );
  } else if (rotatedBy === null) {
    expectAll(ctx, answers, (a) => a.status === 200, 'contract', `${who} (one device) refreshed a live token`);
  }
}

async function refresh(ctx: BurstContext, op: Extract<Op, { kind: 'refresh' }>): Promise<void> {
  const b = ctx.browser(op.user, op.browser);
  const token = b.actor.jar.get(COOKIE.refresh);
  if (token === undefined) return;
  const session = ctx.world.tokenSession.get(token);
  const identity = ctx.world.identityOf(b.actor);
  const answers = await Promise.all(
    op.nodes.map(async (node) => {
      const answer = await send(ctx, b.actor, node, '/auth/refresh', { method: 'POST' }, true);
      recordPresentation(ctx, session, token, identity, b.actor, answer);
      return answer;
    }),
  );
  judgePresentations(
    ctx,
    op,
    session,
    token,
    op.nodes.map(() => identity),
    answers,
    `${b.actor.name}'s ${op.nodes.length} tab(s)`,
  );
}

async function replay(ctx: BurstContext, op: Extract<Op, { kind: 'replay' }>): Promise<void> {
  const thief = ctx.thief(op.attacker);
  const token = thief.actor.jar.get(COOKIE.refresh);
  if (token === undefined || thief.session === null) return;
  const session = ctx.world.tokenSession.get(token);
  const identities = op.nodes.map(() => ctx.world.identityOf(thief.actor));
  const answers = await Promise.all(
    op.nodes.map(async (node, i) => {
      const answer = await send(ctx, thief.actor, node, '/auth/refresh', { method: 'POST' }, false);
      recordPresentation(ctx, session, token, identities[i] as string, thief.actor, answer);
      return answer;
    }),
  );
  judgePresentations(ctx, op, session, token, identities, answers, `${thief.actor.name} (${op.expect})`);
}

async function profile(ctx: BurstContext, op: Extract<Op, { kind: 'profile' }>): Promise<void> {
  const b = ctx.browser(op.user, op.browser);
  const session = ctx.sessionAtStart.get(b);
  const answer = await send(ctx, b.actor, op.node, '/api/profile', {}, true);
  if (session && !ctx.liveAtStart.has(session)) {
    ctx.world.expect(
      answer.status === 401,
      'revoked-refused-everywhere',
      () => `${b.actor.name} read /api/profile with revoked session ${session.id}: ${answer.status}`,
    );
  } else if (exact(ctx, session, op)) {
    ctx.world.expect(
      answer.status === 200,
      'contract',
      () => `${b.actor.name} read /api/profile with a live session: ${answer.status} ${answer.code}`,
    );
  }
}

const TRANSFER_OK = { amount: 10, to: 'bob' };
const TRANSFER_INVALID = { amount: -1, to: 'bob' };

async function stepUp(ctx: BurstContext, op: Extract<Op, { kind: 'step-up' }>): Promise<void> {
  const { world } = ctx;
  const b = ctx.browser(op.user, op.browser);
  const user = b.user;
  const session = ctx.sessionAtStart.get(b);
  const precise = exact(ctx, session, op);
  let answers: Answer[];
  if (op.factor === 'password') {
    const key = passwordKey(user.email);
    answers = [await send(ctx, b.actor, op.racers[0] ?? 0, '/auth/step-up', { json: { password: PASSWORD } }, true)];
    for (const answer of answers) {
      world.check({ key, endpoint: 'step-up', wrong: false, answer, what: 'step-up (password)' });
    }
    if (precise) {
      const allowed = mayBackOff(ctx, key) ? [200, 429] : [200];
      expectAll(
        ctx,
        answers,
        (a) => allowed.includes(a.status),
        'contract',
        `${b.actor.name} stepped up with the right password`,
      );
    }
  } else {
    const key = totpKey(user);
    const step = nextTotpStep(user);
    const totp = user.totp;
    if (!totp) return;
    // No unused step left in the window: the last accepted code again, which must be refused.
    const code = totpCode(totp.secret, (step ?? totp.lastStep) * PERIOD_MS);
    answers = await Promise.all(
      op.racers.map((node) => send(ctx, b.actor, node, '/auth/step-up', { json: { totp: code } }, true)),
    );
    const successes = answers.filter((a) => a.status === 200).length;
    for (const answer of answers) {
      world.check({ key, endpoint: 'step-up', wrong: step === null, answer, what: 'step-up (TOTP)' });
    }
    const stepKey = `${user.index}:${step ?? totp.lastStep}`;
    world.totpSteps.set(stepKey, (world.totpSteps.get(stepKey) ?? 0) + successes);
    world.expect(
      (world.totpSteps.get(stepKey) ?? 0) <= 1,
      'totp-code-once',
      () =>
        `u${user.index}'s TOTP code of step ${step ?? totp.lastStep} was accepted ${world.totpSteps.get(stepKey)} times (${op.racers.length} at once: ${statusList(answers)})`,
    );
    if (step !== null && successes > 0) totp.lastStep = step;
    if (precise && step !== null && !mayBackOff(ctx, key)) {
      world.expect(
        successes === 1,
        'contract',
        () =>
          `${op.racers.length} step-ups with one fresh TOTP code: expected exactly one 200, got ${statusList(answers)}`,
      );
    }
  }
  const granted = answers.find((a) => a.status === 200)?.setCookies.get(COOKIE.stepUp) ?? undefined;
  const grant = granted === undefined || !session ? undefined : world.grant(granted, session);

  // Guarded calls at once, some by a thief holding a copy of the browser's cookies (grant included).
  const copy = thiefWithCopy(`${b.actor.name}-grant-thief`, ctx.rng, b.actor);
  const calls = await Promise.all(
    op.calls.map(async (call) => {
      const json = call.valid ? TRANSFER_OK : TRANSFER_INVALID;
      const sent = (call.byThief ? copy.cookies : b.actor.jar).get(COOKIE.stepUp);
      const answer = call.byThief
        ? await send(ctx, copy.actor, call.node, '/api/transfer', { json, cookies: copy.cookies }, false)
        : await send(ctx, b.actor, call.node, '/api/transfer', { json }, true);
      if (sent !== undefined && session) {
        const record = world.grant(sent, session);
        record.calls++;
        if (answer.status >= 200 && answer.status < 300) record.successes++;
      }
      return { call, answer };
    }),
  );
  for (const { call, answer } of calls) {
    const allowed = call.valid ? [200, 401] : [400, 401];
    world.expect(
      allowed.includes(answer.status),
      'contract',
      () => `${call.valid ? 'valid' : 'invalid'} transfer answered ${answer.status} ${answer.code ?? ''}`,
    );
  }
  if (grant && precise && op.calls.every((c) => c.valid)) {
    const ok = calls.filter((c) => c.answer.status === 200).length;
    world.expect(
      ok === 1,
      'grant-once',
      () =>
        `${op.calls.length} valid guarded calls at once with one grant: expected exactly one 2xx, got ${statusList(calls.map((c) => c.answer))}`,
    );
  }
  // A grant that no call consumed (failures, or valid calls that lost the claim) still works once.
  if (grant && granted !== undefined && grant.successes === 0) {
    const retry = await send(
      ctx,
      b.actor,
      op.followUpNode,
      '/api/transfer',
      { json: TRANSFER_OK, cookies: new Map([...b.actor.jar, [COOKIE.stepUp, granted]]), keep: true },
      true,
    );
    grant.calls++;
    if (retry.status >= 200 && retry.status < 300) grant.successes++;
    if (precise) {
      world.expect(
        retry.status === 200,
        'grant-once',
        () =>
          `the grant was lost: no guarded call succeeded (${statusList(calls.map((c) => c.answer))}), and a valid retry with it got ${retry.status} ${retry.code ?? ''}`,
      );
    }
  }
}

async function logout(ctx: BurstContext, op: Extract<Op, { kind: 'logout' }>): Promise<void> {
  const b = ctx.browser(op.user, op.browser);
  const session = ctx.sessionAtStart.get(b);
  await warm(ctx, op, session, b.actor.jar.get(COOKIE.access));
  const answer = await send(ctx, b.actor, op.node, '/auth/logout', { method: 'POST' }, true);
  ctx.world.expect(answer.status === 204, 'contract', () => `logout answered ${answer.status}`);
  if (answer.status === 204 && session && ctx.liveAtStart.has(session))
    ctx.world.revoked(session, answer.recvAt, `logout by ${b.actor.name}`);
}

async function deleteSession(ctx: BurstContext, op: Extract<Op, { kind: 'delete-session' }>): Promise<void> {
  const b = ctx.browser(op.user, op.browser);
  const own = ctx.sessionAtStart.get(b);
  const target = ctx.sessionAtStart.get(ctx.browser(op.user, op.target));
  if (!target) return;
  await warm(ctx, op, target, ctx.browser(op.user, op.target).actor.jar.get(COOKIE.access));
  const answer = await send(ctx, b.actor, op.node, `/auth/sessions/${target.id}`, { method: 'DELETE' }, true);
  if (exact(ctx, own, op) && (!ctx.liveAtStart.has(target) || exact(ctx, target, op))) {
    const expected = ctx.liveAtStart.has(target) ? 204 : 404;
    ctx.world.expect(
      answer.status === expected,
      'contract',
      () =>
        `DELETE /auth/sessions/:id of a ${expected === 204 ? 'live' : 'revoked'} session answered ${answer.status} ${answer.code ?? ''}`,
    );
  }
  if (answer.status === 204 && ctx.liveAtStart.has(target))
    ctx.world.revoked(target, answer.recvAt, `deleted by ${b.actor.name}`);
}

async function revokeOthers(ctx: BurstContext, op: Extract<Op, { kind: 'revoke-others' }>): Promise<void> {
  const b = ctx.browser(op.user, op.browser);
  const own = ctx.sessionAtStart.get(b);
  const others = b.user.sessions.filter((s) => s !== own && ctx.liveAtStart.has(s));
  await Promise.all(others.map((s) => warm(ctx, op, s, [...s.accessTokens].at(-1))));
  const answer = await send(ctx, b.actor, op.node, '/auth/sessions/revoke-others', { method: 'POST' }, true);
  if (exact(ctx, own, op)) {
    ctx.world.expect(
      answer.status === 200 && answer.body.revoked === others.length,
      'contract',
      () =>
        `revoke-others with ${others.length} other live sessions answered ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
  if (answer.status === 200)
    for (const s of others) ctx.world.revoked(s, answer.recvAt, `revoke-others by ${b.actor.name}`);
}

/** Uses an access token on every node before it is revoked (so each node has it verified and cached). */
async function warm(
  ctx: BurstContext,
  op: Op,
  session: SessionModel | null | undefined,
  token: string | undefined,
): Promise<void> {
  if (token === undefined) return;
  const answers = await Promise.all(ctx.urls.map((_, node) => bearer(ctx, node, '/api/ping/protected', token)));
  if (exact(ctx, session, op))
    expectAll(ctx, answers, (a) => a.status === 200, 'contract', 'a live access token on every node');
}

async function relogin(ctx: BurstContext, op: Extract<Op, { kind: 'relogin' }>): Promise<void> {
  const { world } = ctx;
  const user = ctx.user(op.user);
  const pwKey = passwordKey(user.email);
  // The browsers race one second factor: the next TOTP step, else the next recovery code.
  const step = nextTotpStep(user);
  const recovery = step === null ? user.totp?.recoveryCodes[0] : undefined;
  const secondFactor = user.totp
    ? step !== null
      ? { code: totpCode(user.totp.secret, step * PERIOD_MS) }
      : { recoveryCode: recovery ?? '' }
    : null;
  const results = await Promise.all(
    op.browsers.map(async (index, i) => {
      const b = ctx.browser(op.user, index);
      const login = await send(
        ctx,
        b.actor,
        op.nodes[i] ?? 0,
        '/auth/login',
        { json: { email: user.email, password: PASSWORD } },
        true,
      );
      world.check({
        key: pwKey,
        endpoint: 'login',
        wrong: false,
        answer: login,
        what: 'login',
      });
      const allowed = mayBackOff(ctx, pwKey) ? [200, 429] : [200];
      world.expect(
        allowed.includes(login.status),
        'contract',
        () => `login with the right password answered ${login.status} ${login.code ?? ''}`,
      );
      if (login.status !== 200) return null;
      if (login.body.mfaRequired !== true) {
        b.session = world.started(user, login, b.actor.deviceId());
        return null;
      }
      const second = await send(ctx, b.actor, op.nodes[i] ?? 0, '/auth/login/totp', { json: secondFactor ?? {} }, true);
      world.check({
        key: totpKey(user),
        endpoint: 'login-totp',
        wrong: false,
        answer: second,
        what: 'login second step',
      });
      if (second.status === 200) b.session = world.started(user, second, b.actor.deviceId());
      return second;
    }),
  );
  const seconds = results.filter((a): a is Answer => a !== null);
  if (!user.totp || seconds.length === 0) return;
  const successes = seconds.filter((a) => a.status === 200).length;
  const stepKey = step !== null ? `${user.index}:${step}` : `${user.index}:recovery:${recovery}`;
  world.totpSteps.set(stepKey, (world.totpSteps.get(stepKey) ?? 0) + successes);
  world.expect(
    (world.totpSteps.get(stepKey) ?? 0) <= 1,
    'totp-code-once',
    () =>
      `u${user.index}'s ${step !== null ? `TOTP step ${step}` : 'recovery code'} completed ${world.totpSteps.get(stepKey)} logins (${statusList(seconds)})`,
  );
  if (successes > 0) {
    if (step !== null) user.totp.lastStep = step;
    else user.totp.recoveryCodes.shift();
  }
  if (!mayBackOff(ctx, totpKey(user))) {
    world.expect(
      successes === 1,
      'contract',
      () =>
        `${seconds.length} second steps with one fresh ${step !== null ? 'code' : 'recovery code'}: expected exactly one 200, got ${statusList(seconds)}`,
    );
  }
}

async function guessPassword(ctx: BurstContext, op: Extract<Op, { kind: 'guess-password' }>): Promise<void> {
  const user = ctx.user(op.user);
  const key = passwordKey(user.email);
  await Promise.all(
    op.attempts.map(async (attempt, i) => {
      const password = `wrong guess ${ctx.rng.int(1e9)} ${i}`;
      if (attempt.via === 'login') {
        const guesser = new Actor('guesser', ctx.rng.pick(THIEF_AGENTS), GUESSER_IPS[attempt.ip] ?? '192.0.2.9', {
          kind: 'none',
        });
        const answer = await send(
          ctx,
          guesser,
          attempt.node,
          '/auth/login',
          { json: { email: user.email, password } },
          false,
        );
        ctx.world.check({
          key,
          endpoint: 'login',
          wrong: true,
          answer,
          what: `wrong password at login for u${user.index}`,
        });
        ctx.world.expect(
          answer.code === 'invalid_credentials' || answer.status === 429,
          'contract',
          () => `a wrong password at login answered ${answer.status} ${answer.code ?? ''}`,
        );
        return;
      }
      const copy = thiefWithCopy('session-thief', ctx.rng, ctx.browser(op.user, attempt.browser).actor);
      const answer = await send(
        ctx,
        copy.actor,
        attempt.node,
        '/auth/step-up',
        { json: { password }, cookies: copy.cookies },
        false,
      );
      ctx.world.check({
        key,
        endpoint: 'step-up',
        wrong: true,
        answer,
        what: `wrong password at step-up for u${user.index}`,
      });
      ctx.world.expect(
        answer.status === 401 || answer.status === 429,
        'contract',
        () => `a wrong password at step-up answered ${answer.status} ${answer.code ?? ''}`,
      );
    }),
  );
}

async function guessUnknown(ctx: BurstContext, op: Extract<Op, { kind: 'guess-unknown' }>): Promise<void> {
  const email = `nobody-${op.email}-${ctx.nonce}@example.com`;
  await Promise.all(
    op.attempts.map(async (attempt) => {
      const guesser = new Actor('guesser', ctx.rng.pick(THIEF_AGENTS), GUESSER_IPS[attempt.ip] ?? '192.0.2.9', {
        kind: 'none',
      });
      const answer = await send(
        ctx,
        guesser,
        attempt.node,
        '/auth/login',
        { json: { email, password: `guess ${ctx.rng.int(1e9)}` } },
        false,
      );
      ctx.world.check({
        key: passwordKey(email),
        endpoint: 'login',
        wrong: true,
        answer,
        what: 'login for an unknown email',
      });
      ctx.world.expect(
        answer.code === 'invalid_credentials' || answer.status === 429,
        'contract',
        () => `a login for an unknown email answered ${answer.status} ${answer.code ?? ''}`,
      );
    }),
  );
}

async function guessTotp(ctx: BurstContext, op: Extract<Op, { kind: 'guess-totp' }>): Promise<void> {
  const b = ctx.browser(op.user, op.browser);
  const copy = thiefWithCopy('session-thief', ctx.rng, b.actor);
  await Promise.all(
    op.attempts.map(async (node) => {
      const answer = await send(
        ctx,
        copy.actor,
        node,
        '/auth/step-up',
        { json: { totp: wrongTotpCode(ctx.rng, b.user) }, cookies: copy.cookies },
        false,
      );
      ctx.world.check({
        key: totpKey(b.user),
        endpoint: 'step-up',
        wrong: true,
        answer,
        what: `wrong TOTP code at step-up for u${b.user.index}`,
      });
      ctx.world.expect(
        answer.status === 401 || answer.status === 429,
        'contract',
        () => `a wrong TOTP code at step-up answered ${answer.status} ${answer.code ?? ''}`,
      );
    }),
  );
}

async function disableTotp(ctx: BurstContext, op: Extract<Op, { kind: 'disable-totp' }>): Promise<void> {
  const { world } = ctx;
  const b = ctx.browser(op.user, op.browser);
  const session = ctx.sessionAtStart.get(b);
  const copy = thiefWithCopy('totp-thief', ctx.rng, b.actor);
  const pwKey = passwordKey(b.user.email);
  const stepUp = await send(
    ctx,
    copy.actor,
    op.node,
    '/auth/step-up',
    { json: { password: PASSWORD }, cookies: copy.cookies },
    false,
  );
  world.check({
    key: pwKey,
    endpoint: 'step-up',
    wrong: false,
    answer: stepUp,
    what: 'step-up (password) by a thief',
  });
  const grant = stepUp.setCookies.get(COOKIE.stepUp);
  if (!grant || !session) return;
  copy.cookies.set(COOKIE.stepUp, grant);
  const record = world.grant(grant, session);
  const disable = await send(
    ctx,
    copy.actor,
    op.node,
    '/auth/totp/disable',
    { json: { code: wrongTotpCode(ctx.rng, b.user) }, cookies: copy.cookies },
    false,
  );
  record.calls++;
  if (disable.status >= 200 && disable.status < 300) record.successes++;
  world.check({
    key: totpKey(b.user),
    endpoint: 'totp-disable',
    wrong: true,
    answer: disable,
    what: 'TOTP disable with a wrong code',
  });
  world.expect(
    disable.status >= 400,
    'totp-stays-on',
    () => `a step-up with the password and a wrong code turned TOTP off: ${disable.status}`,
  );
  const status = await send(ctx, copy.actor, op.node, '/auth/totp', { cookies: copy.cookies }, false);
  if (status.status === 200)
    world.expect(
      status.body.enabled === true,
      'totp-stays-on',
      () => `TOTP is off after a disable with a wrong code (${JSON.stringify(status.body)})`,
    );
}

export function runOp(ctx: BurstContext, op: Op): Promise<void> {
  switch (op.kind) {
    case 'refresh':
      return refresh(ctx, op);
    case 'replay':
      return replay(ctx, op);
    case 'profile':
      return profile(ctx, op);
    case 'step-up':
      return stepUp(ctx, op);
    case 'logout':
      return logout(ctx, op);
    case 'delete-session':
      return deleteSession(ctx, op);
    case 'revoke-others':
      return revokeOthers(ctx, op);
    case 'relogin':
      return relogin(ctx, op);
    case 'guess-password':
      return guessPassword(ctx, op);
    case 'guess-unknown':
      return guessUnknown(ctx, op);
    case 'guess-totp':
      return guessTotp(ctx, op);
    case 'disable-totp':
      return disableTotp(ctx, op);
  }
}
