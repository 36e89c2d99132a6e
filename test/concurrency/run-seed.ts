import { randomUUID } from 'node:crypto';
import { PASSWORD, secretOf, totpCode } from '../support/account.js';
import type { Deployment } from '../support/deployments.js';
import { Actor, type Answer, COOKIE } from './actors.js';
import { afterBurst, type CheckStats } from './checks.js';
import { type BurstContext, runOp, THIEF_AGENTS } from './operations.js';
import { describePlan, type Op, type Plan, planFor } from './plan.js';
import { Rng } from './prng.js';
import { passwordKey, type SessionModel, totpKey, type UserModel, type Violation, World } from './world.js';

const BROWSER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
];

export interface SeedReport {
  seed: number;
  deployment: string;
  violations: Violation[];
  /** Known issues seen (not failures). */
  notes: string[];
  /** The seed, the plan and what was checked, for the log. */
  summary: string;
  /** Every answer, one line each (printed for failing bursts, or all with --trace). */
  trace: string[];
  durationMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs one seed's plan against a running deployment (fresh users) and judges every burst. */
export async function runSeed(deployment: Deployment, seed: number): Promise<SeedReport> {
  const started = performance.now();
  const plan = planFor(seed);
  const world = new World();
  const urls = deployment.nodes.map((n) => n.url);
  // Only names differ between runs of a seed (the deployment is shared); the plan does not.
  const nonce = randomUUID().slice(0, 8);
  const rng = new Rng(seed ^ 0x5eed5eed);
  await setUp(plan, world, urls, nonce, rng);
  const stats: CheckStats = { revokedSessions: 0, probes: 0, lists: 0, audits: 0 };

  for (let k = 0; k < plan.bursts.length; k++) {
    const burst = plan.bursts[k];
    if (!burst) continue;
    world.burst = k;
    const ctx = burstContext(
      world,
      urls,
      nonce,
      rng,
      burst.ops.map((o) => o.op),
    );
    await Promise.all(
      burst.ops.map(async ({ delayMs, op }) => {
        await sleep(delayMs);
        await runOp(ctx, op);
      }),
    );
    await afterBurst(ctx, stats);
    for (const steal of burst.steals) {
      const thief = world.thieves[steal.attacker];
      const victim = world.users[steal.user]?.browsers[steal.browser];
      if (!thief || !victim) continue;
      thief.session = victim.session;
      thief.actor.jar.clear();
      for (const name of [COOKIE.access, COOKIE.refresh, COOKIE.csrf]) {
        const value = victim.actor.jar.get(name);
        if (value !== undefined) thief.actor.jar.set(name, value);
      }
    }
  }

  const presentations = [...world.presentations.values()].flat();
  const wrong = world.checks.filter((c) => c.wrong);
  const lines = [
    `seed ${seed} on ${deployment.name}: ${plan.bursts.length} bursts, ${world.requests} requests, ${Math.round(performance.now() - started)} ms`,
    describePlan(plan),
    `checked ${world.assertions} expectations on ${presentations.length} refresh presentations (${presentations.filter((p) => p.answer.code === 'refresh_reused').length} refresh_reused), ` +
      `${wrong.length} wrong secrets (${wrong.filter((c) => c.evaluated).length} evaluated), ${world.grants.size} step-up grants, ` +
      `${stats.revokedSessions} revoked sessions (${stats.probes} access-token probes), ${stats.lists} session lists, ${stats.audits} audit trails`,
  ];
  return {
    seed,
    deployment: deployment.name,
    violations: world.violations,
    notes: [...world.notes],
    summary: lines.join('\n'),
    trace: world.trace,
    durationMs: performance.now() - started,
  };
}

/** Users sign up (browser 0) and log in (the others); TOTP users then enrol through browser 0. */
async function setUp(plan: Plan, world: World, urls: string[], nonce: string, rng: Rng): Promise<void> {
  for (const [index, userPlan] of plan.users.entries()) {
    const user: UserModel = {
      index,
      email: `c${plan.seed}-u${index}-${nonce}@example.com`,
      userId: '',
      totp: null,
      browsers: [],
      sessions: [],
    };
    userPlan.setupNodes.forEach((_, b) => {
      const actor = new Actor(
        `u${index}b${b}`,
        BROWSER_AGENTS[(index + b) % BROWSER_AGENTS.length] as string,
        `203.0.113.${10 + index * 10 + b}`,
        { kind: 'browser' },
      );
      user.browsers.push({ user, index: b, actor, session: null });
    });
    world.users.push(user);
  }
  plan.attackers.forEach((attacker, index) => {
    const device =
      attacker.device === 'none' ? ({ kind: 'none' } as const) : ({ kind: 'forged', id: forgedDeviceId(rng) } as const);
    world.thieves.push({
      index,
      actor: new Actor(
        `t${index}`,
        THIEF_AGENTS[index % THIEF_AGENTS.length] as string,
        `198.51.100.${50 + index}`,
        device,
      ),
      session: null,
    });
  });
  await Promise.all(
    world.users.map(async (user) => {
      const userPlan = plan.users[user.index];
      if (!userPlan) return;
      for (const b of user.browsers) {
        const node = userPlan.setupNodes[b.index] ?? 0;
        const path = b.index === 0 ? '/auth/signup' : '/auth/login';
        const answer = world.seen(
          b.actor,
          await b.actor.send(urls, node, path, { json: { email: user.email, password: PASSWORD } }),
          true,
        );
        expectSetUp(answer, b.index === 0 ? 201 : 200, `${path} for ${b.actor.name}`);
        user.userId = (answer.body.user as { id: string }).id;
        b.session = world.started(user, answer, b.actor.deviceId());
      }
      if (userPlan.totp) user.totp = await enableTotp(world, urls, user);
    }),
  );
}

async function enableTotp(
  world: World,
  urls: string[],
  user: UserModel,
): Promise<{ secret: string; lastStep: number; recoveryCodes: string[] }> {
  const b = user.browsers[0];
  if (!b?.session) throw new Error('no browser to enrol TOTP');
  const stepUp = world.seen(
    b.actor,
    await b.actor.send(urls, 0, '/auth/step-up', { json: { password: PASSWORD } }),
    true,
  );
  expectSetUp(stepUp, 200, 'step-up before TOTP enrolment');
  const grant = world.grant(stepUp.setCookies.get(COOKIE.stepUp) ?? '', b.session);
  const enrol = world.seen(b.actor, await b.actor.send(urls, 1, '/auth/totp/enroll', { method: 'POST' }), true);
  expectSetUp(enrol, 200, 'TOTP enrolment');
  grant.calls++;
  grant.successes++;
  const secret = secretOf(enrol.body.otpauthUri as string);
  // Confirm with the previous step when it is safely inside the window: two unused steps stay for the run.
  const now = Date.now();
  const current = Math.floor(now / 30_000);
  const step = 30_000 - (now % 30_000) > 3000 ? current - 1 : current;
  const confirm = world.seen(
    b.actor,
    await b.actor.send(urls, 2, '/auth/totp/confirm', { json: { code: totpCode(secret, step * 30_000) } }),
    true,
  );
  expectSetUp(confirm, 200, 'TOTP confirmation');
  return { secret, lastStep: step, recoveryCodes: (confirm.body.recoveryCodes as string[]).slice() };
}

function expectSetUp(answer: Answer, status: number, what: string): void {
  if (answer.status !== status)
    throw new Error(`set-up: ${what} answered ${answer.status} ${answer.code ?? ''} (expected ${status})`);
}

function forgedDeviceId(rng: Rng): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return Array.from({ length: 32 }, () => alphabet[rng.int(alphabet.length)]).join('');
}

/** The burst's view: sessions at its start, and which operations may end or present each session. */
function burstContext(world: World, urls: string[], nonce: string, rng: Rng, ops: Op[]): BurstContext {
  const browser = (user: number, index: number) => {
    const b = world.users[user]?.browsers[index];
    if (!b) throw new Error(`plan names browser u${user}b${index}, which does not exist`);
    return b;
  };
  const sessionAtStart = new Map(world.users.flatMap((u) => u.browsers.map((b) => [b, b.session] as const)));
  const liveAtStart = new Set([...world.sessions.values()].filter((s) => s.alive));
  const risks = new Map<SessionModel, Op[]>();
  const presenters = new Map<SessionModel, Op[]>();
  const add = (map: Map<SessionModel, Op[]>, session: SessionModel | null | undefined, op: Op): void => {
    if (session) map.set(session, [...(map.get(session) ?? []), op]);
  };
  const wrongCounts = new Map<string, number>();
  const wrong = (key: string, n: number): void => {
    wrongCounts.set(key, (wrongCounts.get(key) ?? 0) + n);
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'refresh': {
        const b = browser(op.user, op.browser);
        const token = b.actor.jar.get(COOKIE.refresh);
        const session = token === undefined ? undefined : world.tokenSession.get(token);
        add(presenters, session, op);
        const rotatedBy = token === undefined ? null : world.rotatedBefore(token);
        // A browser whose token a thief rotated ends its session by refreshing (reuse).
        if (rotatedBy !== null && rotatedBy !== b.actor.deviceId()) add(risks, session, op);
        break;
      }
      case 'replay': {
        const thief = world.thieves[op.attacker];
        const token = thief?.actor.jar.get(COOKIE.refresh);
        const session = token === undefined ? undefined : world.tokenSession.get(token);
        add(presenters, session, op);
        add(risks, session, op);
        break;
      }
      case 'logout':
        add(risks, browser(op.user, op.browser).session, op);
        break;
      case 'delete-session':
        add(risks, browser(op.user, op.target).session, op);
        break;
      case 'revoke-others': {
        const own = browser(op.user, op.browser).session;
        for (const s of world.users[op.user]?.sessions ?? []) if (s !== own && s.alive) add(risks, s, op);
        break;
      }
      case 'guess-password':
        wrong(passwordKey(world.users[op.user]?.email ?? ''), op.attempts.length);
        break;
      case 'guess-totp':
        wrong(totpKey(browser(op.user, 0).user), op.attempts.length);
        break;
      case 'disable-totp':
        wrong(totpKey(browser(op.user, 0).user), 1);
        break;
      default:
        break;
    }
  }
  return {
    world,
    urls,
    rng,
    nonce,
    sessionAtStart,
    liveAtStart,
    risks,
    presenters,
    wrongCounts,
    browser,
    thief: (index) => {
      const t = world.thieves[index];
      if (!t) throw new Error(`plan names thief ${index}, which does not exist`);
      return t;
    },
    user: (index) => {
      const u = world.users[index];
      if (!u) throw new Error(`plan names user ${index}, which does not exist`);
      return u;
    },
  };
}
