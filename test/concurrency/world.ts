import { type Actor, type Answer, COOKIE } from './actors.js';

/** The invariants a run checks; a violation names one. */
export type Invariant =
  | 'attempts-bounded'
  | 'one-successor'
  | 'other-device-is-reuse'
  | 'grant-once'
  | 'revoked-refused-everywhere'
  | 'totp-code-once'
  | 'totp-stays-on'
  | 'sessions-listed'
  | 'audit-trail'
  | 'contract';

export interface Violation {
  invariant: Invariant;
  burst: number;
  message: string;
}

/** A session as the run knows it from the answers. */
export interface SessionModel {
  id: string;
  user: UserModel;
  /** The device id of the browser that started it (sent with its refresh checks). */
  device: string | undefined;
  alive: boolean;
  /** performance.now() of the first answer that shows the session revoked. */
  revokedAt: number | null;
  /** The burst in which it was revoked. */
  revokedBurst: number | null;
  revokedHow: string | null;
  accessTokens: Set<string>;
  /** Every refresh token issued to the session, in order. */
  refreshTokens: string[];
  /** Answers `401 refresh_reused` received for the session. */
  reuseAnswers: number;
}

export interface UserModel {
  index: number;
  email: string;
  userId: string;
  totp: { secret: string; lastStep: number; recoveryCodes: string[] } | null;
  browsers: BrowserModel[];
  sessions: SessionModel[];
}

export interface BrowserModel {
  user: UserModel;
  index: number;
  actor: Actor;
  session: SessionModel | null;
}

export interface ThiefModel {
  index: number;
  actor: Actor;
  /** The session whose cookies it copied (null before the theft). */
  session: SessionModel | null;
}

/** One presentation of a refresh token to POST /auth/refresh. */
export interface Presentation {
  token: string;
  /** The device id sent, or a unique anonymous identity (a presenter without one gets no grace). */
  identity: string;
  actor: string;
  answer: Answer;
  burst: number;
  successor: string | undefined;
}

/** A secret check (password or second factor) and whether the server evaluated it. */
export interface SecretCheck {
  key: string;
  endpoint: 'login' | 'login-totp' | 'step-up' | 'totp-disable';
  wrong: boolean;
  succeeded: boolean;
  evaluated: boolean;
  answer: Answer;
  burst: number;
  what: string;
}

export interface GrantRecord {
  session: SessionModel;
  /** Guarded calls it answered with 2xx. */
  successes: number;
  calls: number;
  /** Already reported as used more than once. */
  reported: boolean;
}

/**
 * What the run has seen: sessions, every refresh presentation, step-up grants, secret checks,
 * TOTP steps; the invariants are judged from it. Times are performance.now() milliseconds.
 */
export class World {
  readonly users: UserModel[] = [];
  readonly thieves: ThiefModel[] = [];
  readonly violations: Violation[] = [];
  /** Known issues seen (reported, not failing). */
  readonly notes = new Set<string>();
  readonly presentations = new Map<string, Presentation[]>();
  readonly tokenSession = new Map<string, SessionModel>();
  readonly sessions = new Map<string, SessionModel>();
  readonly grants = new Map<string, GrantRecord>();
  readonly checks: SecretCheck[] = [];
  /** Successful TOTP checks per `user:step`. */
  readonly totpSteps = new Map<string, number>();
  /** Device ids of the browsers, to notice one handed to somebody else. */
  readonly browserDevices = new Map<string, string>();
  /** One line per answer: `burst actor METHOD /path @node → status code (ms)`. */
  readonly trace: string[] = [];
  requests = 0;
  /** Expectations evaluated (a run that checks nothing would pass too). */
  assertions = 0;
  burst = -1;
  #anonymous = 0;

  fail(invariant: Invariant, message: string): void {
    this.violations.push({ invariant, burst: this.burst, message });
  }

  /** Fails unless `ok`; `message` is built only when it fails. */
  expect(ok: boolean, invariant: Invariant, message: () => string): void {
    this.assertions++;
    if (!ok) this.fail(invariant, message());
  }

  /** A session started by a signup or login answer (body.session.id) for `user`. */
  started(user: UserModel, answer: Answer, device: string | undefined): SessionModel {
    const id = (answer.body.session as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') throw new Error(`no session in the answer (${answer.status})`);
    const session: SessionModel = {
      id,
      user,
      device,
      alive: true,
      revokedAt: null,
      revokedBurst: null,
      revokedHow: null,
      accessTokens: new Set(),
      refreshTokens: [],
      reuseAnswers: 0,
    };
    this.sessions.set(id, session);
    user.sessions.push(session);
    this.issued(session, answer);
    return session;
  }

  /** Records the access and refresh tokens an answer set for `session`. */
  issued(session: SessionModel, answer: Answer): void {
    const access = answer.setCookies.get(COOKIE.access);
    if (access) session.accessTokens.add(access);
    const refresh = answer.setCookies.get(COOKIE.refresh);
    if (refresh && !session.refreshTokens.includes(refresh)) {
      session.refreshTokens.push(refresh);
      this.tokenSession.set(refresh, session);
    }
  }

  /** Every answer passes here: counts it, and notes a browser's device id handed to someone else. */
  seen(actor: Actor, answer: Answer, isBrowser: boolean): Answer {
    this.requests++;
    const ms = Math.round(answer.recvAt - answer.sentAt);
    this.trace.push(
      `burst ${this.burst} ${actor.name} ${answer.request} @n${answer.node} → ${answer.status}${answer.code ? ` ${answer.code}` : ''} (${ms} ms)`,
    );
    const device = answer.setCookies.get(COOKIE.device);
    if (device) {
      const owner = this.browserDevices.get(device);
      if (isBrowser && owner === undefined) this.browserDevices.set(device, actor.name);
      else if (owner !== undefined && owner !== actor.name) {
        this.notes.add(
          `device-id-handed-out: ${actor.name} was sent ${owner}'s __Host-tw_dev (Set-Cookie of a ${answer.status} answer)`,
        );
      }
    }
    return answer;
  }

  identityOf(actor: Actor): string {
    return actor.deviceId() ?? `anonymous#${++this.#anonymous}`;
  }

  presented(p: Presentation): void {
    const list = this.presentations.get(p.token) ?? [];
    list.push(p);
    this.presentations.set(p.token, list);
  }

  /** The identity that rotated `token` (got a 200 for it) in a burst before the current one. */
  rotatedBefore(token: string): string | null {
    const rotation = (this.presentations.get(token) ?? []).find((p) => p.answer.status === 200 && p.burst < this.burst);
    return rotation?.identity ?? null;
  }

  /** Marks a session revoked as of `at` (the earliest answer of the burst that shows it). */
  revoked(session: SessionModel, at: number, how: string): void {
    if (session.alive) {
      session.alive = false;
      session.revokedAt = at;
      session.revokedBurst = this.burst;
      session.revokedHow = how;
    } else if (session.revokedBurst === this.burst && session.revokedAt !== null && at < session.revokedAt) {
      session.revokedAt = at;
      session.revokedHow = how;
    }
  }

  grant(value: string, session: SessionModel): GrantRecord {
    let record = this.grants.get(value);
    if (!record) {
      record = { session, successes: 0, calls: 0, reported: false };
      this.grants.set(value, record);
    }
    return record;
  }

  /**
   * Records a secret check from its answer: a success (200, 204 for TOTP disable), an evaluated
   * wrong secret (401 invalid_credentials, or invalid_code for codes), or not evaluated (429, a
   * dead session). Every 429 must carry `Retry-After` ≥ 1.
   */
  check(c: Pick<SecretCheck, 'key' | 'endpoint' | 'wrong' | 'answer' | 'what'>): void {
    const success = c.endpoint === 'totp-disable' ? 204 : 200;
    const refused =
      c.endpoint === 'login-totp' || c.endpoint === 'totp-disable' ? 'invalid_code' : 'invalid_credentials';
    const succeeded = c.answer.status === success;
    this.checks.push({ ...c, succeeded, evaluated: succeeded || c.answer.code === refused, burst: this.burst });
    if (c.answer.status === 429) {
      const retry = Number(c.answer.retryAfter);
      this.expect(
        Number.isInteger(retry) && retry >= 1,
        'contract',
        () => `429 to ${c.what} without a Retry-After ≥ 1 (${c.answer.retryAfter})`,
      );
    }
  }

  /**
   * Failures the limiter may still count for `key`: every failed check since the burst of its
   * last success (the success clears only the attempts reserved before it, so that burst's
   * failures all count: an overestimate, never an underestimate).
   */
  failuresSinceSuccess(key: string): number {
    const checks = this.checks.filter((c) => c.key === key);
    const lastSuccess = Math.max(-1, ...checks.filter((c) => c.succeeded).map((c) => c.burst));
    return checks.filter((c) => c.burst >= lastSuccess && c.evaluated && !c.succeeded).length;
  }
}

/** Failures per account before the backoff (API.md "Limits": attempts 1–5 answer 401, the 6th 429). */
export const FREE_FAILURES = 5;

export const passwordKey = (email: string): string => `password:${email}`;
export const totpKey = (user: UserModel): string => `totp:${user.index}`;
