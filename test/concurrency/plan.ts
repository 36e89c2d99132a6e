import { Rng } from './prng.js';

/**
 * The plan of one seeded run: which users and browsers exist, and the bursts of interleaved
 * operations sent to the server. Everything here comes from the seed alone (never from an
 * answer), so a seed replays the same requests in the same groups to the same nodes. Node
 * numbers are 0–2; a deployment with fewer nodes takes them modulo its size.
 *
 * What the server answers is judged by the run (run-seed.ts) from what actually happened; the
 * planner only simulates the contract coarsely to choose operations that mean something (a
 * stolen token replayed after the victim refreshed, a relogin of a signed-out browser, ...).
 */
export interface Plan {
  seed: number;
  users: UserPlan[];
  /** Cookie thieves: each steals one browser's cookies between two bursts and replays them later. */
  attackers: AttackerPlan[];
  bursts: Burst[];
}

export interface UserPlan {
  totp: boolean;
  /** Node of each browser's signup (browser 0) or first login. */
  setupNodes: number[];
}

export interface AttackerPlan {
  /** `none`: sends no device cookie; `forged`: always the same device id of its own. */
  device: 'none' | 'forged';
}

export interface Burst {
  ops: Array<{ delayMs: number; op: Op }>;
  /** Thefts after the burst (the thief copies the browser's cookies, not its device cookie). */
  steals: Array<{ attacker: number; user: number; browser: number }>;
}

/** A guarded call (POST /api/transfer) with the browser's step-up grant. */
export interface TransferCall {
  node: number;
  /** An invalid body answers 400 and must leave the grant usable. */
  valid: boolean;
  /** Sent by a thief holding a copy of the browser's cookies (grant included), from elsewhere. */
  byThief: boolean;
}

export type Op =
  /** Tabs of one browser racing `POST /auth/refresh` with the same cookie, one per node. */
  | { kind: 'refresh'; user: number; browser: number; nodes: number[] }
  | { kind: 'profile'; user: number; browser: number; node: number }
  /** A step-up (`racers` at once for TOTP, with the same code), then guarded calls at once, then a retry when none succeeded. */
  | {
      kind: 'step-up';
      user: number;
      browser: number;
      factor: 'password' | 'totp';
      racers: number[];
      calls: TransferCall[];
      followUpNode: number;
    }
  | { kind: 'logout'; user: number; browser: number; node: number }
  | { kind: 'delete-session'; user: number; browser: number; target: number; node: number }
  | { kind: 'revoke-others'; user: number; browser: number; node: number }
  /** Browsers (signed out) log in again at once; with TOTP they race one code (or one recovery code). */
  | { kind: 'relogin'; user: number; browsers: number[]; nodes: number[] }
  /** A thief presents its refresh cookie (`copies` at once): the stolen one, or its own successor. */
  | { kind: 'replay'; attacker: number; nodes: number[]; expect: 'stale' | 'fresh' | 'raced' | 'own' }
  /** Wrong passwords at once for one account: at login (no cookies) or at step-up with a copy of a session. */
  | {
      kind: 'guess-password';
      user: number;
      attempts: Array<{ node: number; ip: number; via: 'login' | 'step-up'; browser: number }>;
    }
  | { kind: 'guess-unknown'; email: number; attempts: Array<{ node: number; ip: number }> }
  /** Wrong TOTP codes at once at step-up, with a copy of a session. */
  | { kind: 'guess-totp'; user: number; browser: number; attempts: number[] }
  /** A thief with a copy of a session and the password steps up and tries to turn TOTP off with a wrong code. */
  | { kind: 'disable-totp'; user: number; browser: number; node: number };

export type OpKind = Op['kind'];

/** Scenario labels every plan covers (so each fixed seed exercises every invariant). */
const REQUIRED = [
  'guess-password',
  'guess-unknown',
  'guess-totp',
  'replay:stale',
  'replay:raced',
  'replay:fresh',
  'hijack-detected',
  'tab-race',
  'step-up:all-valid',
  'step-up:with-invalid',
  'step-up:totp-race',
  'disable-totp',
  'logout',
  'delete-session',
  'revoke-others',
  'relogin',
] as const;
type Label = (typeof REQUIRED)[number];

const USERS = 3;
const BURSTS = 7;
const ATTACKERS = 3;

interface SimBrowser {
  alive: boolean;
  version: number;
  /** A thief rotated this browser's current refresh token: its next refresh is reuse. */
  hijackedBy: number | null;
}
interface SimAttacker {
  victim: { user: number; browser: number } | null;
  stolenVersion: number;
  owns: boolean;
  spent: boolean;
}

/** Builds the plan of a seed; deterministic (plans missing a required scenario are redrawn from the same stream). */
export function planFor(seed: number): Plan {
  const rng = new Rng(seed);
  for (let attempt = 0; attempt < 500; attempt++) {
    const { plan, labels } = draw(seed, rng);
    if (REQUIRED.every((label) => labels.has(label))) return plan;
  }
  throw new Error(`seed ${seed}: no plan covering every scenario in 500 draws`);
}

function draw(seed: number, rng: Rng): { plan: Plan; labels: Set<Label> } {
  const labels = new Set<Label>();
  const users: UserPlan[] = Array.from({ length: USERS }, () => ({
    totp: rng.chance(0.5),
    setupNodes: Array.from({ length: rng.between(2, 3) }, () => rng.int(3)),
  }));
  if (!users.some((u) => u.totp)) rng.pick(users).totp = true;
  const attackers: AttackerPlan[] = Array.from({ length: ATTACKERS }, () => ({
    device: rng.chance(0.6) ? 'none' : 'forged',
  }));

  const browsers: SimBrowser[][] = users.map((u) =>
    u.setupNodes.map(() => ({ alive: true, version: 0, hijackedBy: null })),
  );
  const thieves: SimAttacker[] = attackers.map(() => ({ victim: null, stolenVersion: 0, owns: false, spent: false }));
  const guessed = users.map(() => ({ password: false, totp: false }));
  const sessionEnds = (user: number, browser: number): void => {
    const b = browsers[user]?.[browser];
    if (b) b.alive = false;
    for (const t of thieves) if (t.victim?.user === user && t.victim.browser === browser) t.spent = true;
  };
  const alive = (user: number): number[] => (browsers[user] ?? []).flatMap((b, i) => (b.alive ? [i] : []));
  const dead = (user: number): number[] => (browsers[user] ?? []).flatMap((b, i) => (b.alive ? [] : [i]));
  const boost = (label: Label, weight: number): number => (labels.has(label) ? weight : weight * 4);

  const bursts: Burst[] = [];
  for (let k = 0; k < BURSTS; k++) {
    const ops: Op[] = [];
    const busy = new Set<string>();
    for (let u = 0; u < USERS; u++) {
      const user = users[u] as UserPlan;
      // 1. At most one operation per user and burst that can end a session (so each has an exact expected answer).
      const choices: Array<[number, () => void]> = [[1, () => {}]];
      const thief = thieves.findIndex((t) => t.victim?.user === u && !t.spent);
      const t = thieves[thief];
      if (t?.victim && browsers[u]?.[t.victim.browser]?.alive) {
        const victim = t.victim;
        const vb = browsers[u]?.[victim.browser] as SimBrowser;
        choices.push([
          t.owns ? 1 : 4,
          () => {
            const copies = rng.chance(0.3) ? 2 : 1;
            const nodes = Array.from({ length: copies }, () => rng.int(3));
            let expect: 'stale' | 'fresh' | 'raced' | 'own';
            if (t.owns) expect = 'own';
            else if (vb.version > t.stolenVersion) expect = 'stale';
            else if (rng.chance(boost('replay:raced', 0.35))) expect = 'raced';
            else expect = 'fresh';
            ops.push({ kind: 'replay', attacker: thief, nodes, expect });
            if (expect === 'raced') {
              ops.push({ kind: 'refresh', user: u, browser: victim.browser, nodes: tabs(rng) });
              busy.add(`${u}:${victim.browser}`);
            }
            // Two copies without a device cookie are two presenters: reuse, whatever else happens.
            const twoAnonymous = attackers[thief]?.device === 'none' && copies === 2;
            if (expect !== 'own') labels.add(`replay:${expect}`);
            if (expect === 'stale' || expect === 'raced' || twoAnonymous) {
              sessionEnds(u, victim.browser);
            } else if (expect === 'fresh') {
              t.owns = true;
              vb.hijackedBy = thief;
            }
          },
        ]);
      }
      const hijacked = (browsers[u] ?? []).findIndex((b) => b.alive && b.hijackedBy !== null);
      if (hijacked >= 0) {
        choices.push([
          boost('hijack-detected', 3),
          () => {
            ops.push({ kind: 'refresh', user: u, browser: hijacked, nodes: tabs(rng) });
            busy.add(`${u}:${hijacked}`);
            labels.add('hijack-detected');
            sessionEnds(u, hijacked);
          },
        ]);
      }
      const up = alive(u);
      if (up.length > 0) {
        choices.push([
          boost('logout', 1),
          () => {
            const b = rng.pick(up);
            ops.push({ kind: 'logout', user: u, browser: b, node: rng.int(3) });
            busy.add(`${u}:${b}`);
            labels.add('logout');
            sessionEnds(u, b);
          },
        ]);
      }
      if (up.length > 0 && user.setupNodes.length > 1) {
        choices.push([
          boost('delete-session', 1),
          () => {
            const b = rng.pick(up);
            const others = user.setupNodes.map((_, i) => i).filter((i) => i !== b);
            const liveOthers = others.filter((i) => browsers[u]?.[i]?.alive);
            const target = liveOthers.length > 0 && rng.chance(0.85) ? rng.pick(liveOthers) : rng.pick(others);
            ops.push({ kind: 'delete-session', user: u, browser: b, target, node: rng.int(3) });
            busy.add(`${u}:${target}`);
            labels.add('delete-session');
            sessionEnds(u, target);
          },
        ]);
      }
      if (up.length > 1) {
        choices.push([
          boost('revoke-others', 1),
          () => {
            const b = rng.pick(up);
            ops.push({ kind: 'revoke-others', user: u, browser: b, node: rng.int(3) });
            labels.add('revoke-others');
            for (const other of up) if (other !== b) sessionEnds(u, other);
          },
        ]);
      }
      const down = dead(u);
      let relogin = false;
      // A guessed key stays backed off for seconds: legitimate checks of it are planned only before.
      const canLogIn = !guessed[u]?.password && !(user.totp && guessed[u]?.totp);
      if (down.length > 0 && canLogIn) {
        choices.push([
          boost('relogin', 3),
          () => {
            const which = rng.shuffle(down).slice(0, rng.chance(0.4) ? 2 : 1);
            ops.push({ kind: 'relogin', user: u, browsers: which, nodes: which.map(() => rng.int(3)) });
            for (const b of which) {
              busy.add(`${u}:${b}`);
              browsers[u]?.splice(b, 1, { alive: true, version: 0, hijackedBy: null });
            }
            labels.add('relogin');
            relogin = true;
          },
        ]);
      }
      weighted(rng, choices)();

      // 2. At most one secret check kind per user and burst: wrong-only guesses never share a
      // burst with a right secret on the same key (a success clears the attempts before it).
      const live = alive(u).filter((b) => !busy.has(`${u}:${b}`));
      const taint = guessed[u] as { password: boolean; totp: boolean };
      const later = (k + 1) / BURSTS;
      const secrets: Array<[number, () => void]> = [[1.5, () => {}]];
      if (!relogin) {
        secrets.push([
          boost('guess-password', 1.2 * later),
          () => {
            const n = rng.between(6, 12);
            const attempts = Array.from({ length: n }, () => {
              const via: 'login' | 'step-up' = live.length > 0 && rng.chance(0.3) ? 'step-up' : 'login';
              return { node: rng.int(3), ip: rng.int(8), via, browser: via === 'step-up' ? rng.pick(live) : 0 };
            });
            ops.push({ kind: 'guess-password', user: u, attempts });
            labels.add('guess-password');
            taint.password = true;
          },
        ]);
      }
      const factors: Array<'password' | 'totp'> = [];
      if (!taint.password) factors.push('password');
      if (user.totp && !relogin && !taint.totp) factors.push('totp');
      if (live.length > 0 && factors.length > 0) {
        const b = rng.pick(live);
        secrets.push([
          2,
          () => {
            const factor = rng.pick(factors);
            const racers = Array.from({ length: factor === 'totp' ? rng.between(1, 2) : 1 }, () => rng.int(3));
            const calls = Array.from({ length: rng.between(2, 5) }, () => ({
              node: rng.int(3),
              valid: rng.chance(0.75),
              byThief: rng.chance(0.25),
            }));
            ops.push({ kind: 'step-up', user: u, browser: b, factor, racers, calls, followUpNode: rng.int(3) });
            busy.add(`${u}:${b}`);
            if (calls.every((c) => c.valid)) labels.add('step-up:all-valid');
            else labels.add('step-up:with-invalid');
            if (factor === 'totp' && racers.length > 1) labels.add('step-up:totp-race');
          },
        ]);
      }
      if (live.length > 0 && user.totp && !relogin) {
        const b = rng.pick(live);
        secrets.push([
          boost('guess-totp', 0.8 * later),
          () => {
            ops.push({
              kind: 'guess-totp',
              user: u,
              browser: b,
              attempts: Array.from({ length: rng.between(6, 10) }, () => rng.int(3)),
            });
            labels.add('guess-totp');
            taint.totp = true;
          },
        ]);
        if (!taint.password) {
          secrets.push([
            boost('disable-totp', 0.5),
            () => {
              ops.push({ kind: 'disable-totp', user: u, browser: b, node: rng.int(3) });
              labels.add('disable-totp');
            },
          ]);
        }
      }
      weighted(rng, secrets)();

      // 3. Background traffic of every browser: refreshes (tabs racing) and reads, some on dead sessions.
      for (let b = 0; b < user.setupNodes.length; b++) {
        const sim = browsers[u]?.[b] as SimBrowser;
        if (busy.has(`${u}:${b}`) || sim.hijackedBy !== null) continue;
        const p = sim.alive ? 1 : 0.15;
        if (rng.chance(0.45 * p)) {
          const nodes = tabs(rng);
          ops.push({ kind: 'refresh', user: u, browser: b, nodes });
          if (nodes.length > 1) labels.add('tab-race');
          if (sim.alive) sim.version++;
        } else if (rng.chance(0.4 * p)) {
          ops.push({ kind: 'profile', user: u, browser: b, node: rng.int(3) });
        }
      }
    }
    if (rng.chance(boost('guess-unknown', 0.3))) {
      const attempts = Array.from({ length: rng.between(6, 10) }, () => ({ node: rng.int(3), ip: rng.int(8) }));
      ops.push({ kind: 'guess-unknown', email: k, attempts });
      labels.add('guess-unknown');
    }

    // Thefts after the burst: a thief copies a live browser's cookies (not its device cookie).
    const steals: Burst['steals'] = [];
    thieves.forEach((t, attacker) => {
      if (t.victim !== null || !rng.chance(0.6)) return;
      const candidates = users.flatMap((_, u) =>
        alive(u).flatMap((b) => (browsers[u]?.[b]?.hijackedBy === null ? [{ user: u, browser: b }] : [])),
      );
      const taken = new Set(thieves.map((x) => (x.victim ? `${x.victim.user}:${x.victim.browser}` : '')));
      const free = candidates.filter((c) => !taken.has(`${c.user}:${c.browser}`));
      if (free.length === 0) return;
      const victim = rng.pick(free);
      t.victim = victim;
      t.stolenVersion = browsers[victim.user]?.[victim.browser]?.version ?? 0;
      steals.push({ attacker, ...victim });
    });
    bursts.push({ ops: rng.shuffle(ops).map((op) => ({ delayMs: rng.int(25), op })), steals });
  }
  return { plan: { seed, users, attackers, bursts }, labels };
}

function tabs(rng: Rng): number[] {
  return Array.from({ length: rng.pick([1, 1, 2, 3]) }, () => rng.int(3));
}

function weighted(rng: Rng, choices: Array<[number, () => void]>): () => void {
  const total = choices.reduce((sum, [w]) => sum + w, 0);
  let x = rng.next() * total;
  for (const [w, action] of choices) {
    x -= w;
    if (x < 0) return action;
  }
  return (choices.at(-1) as [number, () => void])[1];
}

/** One line per burst: what the seed sends (printed with the seed). */
export function describePlan(plan: Plan): string {
  const users = plan.users.map((u, i) => `u${i}(${u.setupNodes.length} browsers${u.totp ? ', TOTP' : ''})`).join(' ');
  const thieves = plan.attackers
    .map((a, i) => `t${i}(${a.device === 'none' ? 'no device cookie' : 'forged device'})`)
    .join(' ');
  const lines = [`users ${users}; thieves ${thieves}`];
  plan.bursts.forEach((burst, k) => {
    const ops = burst.ops.map(({ op }) => describeOp(op)).join(', ');
    const steals = burst.steals.map((s) => `t${s.attacker} steals u${s.user}b${s.browser}`).join(', ');
    lines.push(`burst ${k}: ${ops}${steals ? ` | then ${steals}` : ''}`);
  });
  return lines.join('\n');
}

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'refresh':
      return `u${op.user}b${op.browser} refresh×${op.nodes.length}`;
    case 'profile':
      return `u${op.user}b${op.browser} profile`;
    case 'step-up':
      return `u${op.user}b${op.browser} step-up(${op.factor}${op.racers.length > 1 ? `×${op.racers.length}` : ''})+${op.calls.length} calls${op.calls.some((c) => !c.valid) ? ' (some invalid)' : ''}`;
    case 'logout':
      return `u${op.user}b${op.browser} logout`;
    case 'delete-session':
      return `u${op.user}b${op.browser} deletes b${op.target}`;
    case 'revoke-others':
      return `u${op.user}b${op.browser} revoke-others`;
    case 'relogin':
      return `u${op.user} relogin ${op.browsers.map((b) => `b${b}`).join('+')}`;
    case 'replay':
      return `t${op.attacker} replays×${op.nodes.length} (${op.expect})`;
    case 'guess-password':
      return `${op.attempts.length} password guesses on u${op.user}`;
    case 'guess-unknown':
      return `${op.attempts.length} guesses on unknown email ${op.email}`;
    case 'guess-totp':
      return `${op.attempts.length} TOTP guesses on u${op.user}`;
    case 'disable-totp':
      return `thief disables u${op.user}'s TOTP with a wrong code`;
  }
}
