import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AuthEvent,
  IdentityLink,
  RotateInput,
  Session,
  SigningKeyRecord,
  Store,
  User,
} from '../../src/kernel/ports.js';

/**
 * The behaviour every {@link Store} must have, from the TSDoc of `src/core/ports.ts`. Each test
 * gets a fresh, empty store from `factory` and closes it afterwards.
 */
export function describeStoreConformance(name: string, factory: () => Promise<Store> | Store): void {
  describe(`store conformance › ${name}`, () => {
    let store: Store;
    const T0 = 1_700_000_000_000;
    const SEC = 1000;
    const DAY = 86_400_000;

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    function newUser(email = `${randomUUID()}@example.com`): User {
      return { id: randomUUID(), email, emailVerified: false, name: 'Ada', createdAt: T0 };
    }

    async function addUser(email?: string): Promise<User> {
      const user = newUser(email);
      expect(await store.createUser(user, 'hash-1')).toBe('ok');
      return user;
    }

    function newSession(userId: string, at = T0, overrides: Partial<Session> = {}): Session {
      return {
        id: randomUUID(),
        userId,
        createdAt: at,
        lastActiveAt: at,
        idleExpiresAt: at + 14 * DAY,
        absoluteExpiresAt: at + 30 * DAY,
        authTime: at,
        amr: ['pwd'],
        revokedAt: null,
        revokeReason: null,
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (test)',
        deviceId: 'dev-1',
        newDevice: true,
        dpopJkt: null,
        clientId: 'https://app.example.com',
        ...overrides,
      };
    }

    async function addSession(
      userId: string,
      at = T0,
      overrides: Partial<Session> = {},
      maxSessions = 100,
    ): Promise<{ session: Session; refreshHash: string }> {
      const session = newSession(userId, at, overrides);
      const refreshHash = `rt-${randomUUID()}`;
      await store.createSession({ session, refreshHash, maxSessions });
      return { session, refreshHash };
    }

    /** Digest of the presenting device (`sha256("device:" + id)` in AuthService); opaque to the store. */
    const PRESENTER = 'V1aX0uG2b5Xb7d4c6Q3f5rT9yW8eK2mN4pL6sA1dZ0c';
    const OTHER_PRESENTER = 'K9wQ2eR4tY6uI8oP0aS2dF4gH6jK8lZ0xC2vB4nM6qE';

    /** A refresh token as the store sees it: its session, its generation (from its MAC'd body) and its hash. */
    interface Token {
      sessionId: string;
      generation: number;
      hash: string;
    }

    function firstToken(added: { session: Session; refreshHash: string }): Token {
      return { sessionId: added.session.id, generation: 1, hash: added.refreshHash };
    }

    function rotateInput(token: Token, now: number, overrides: Partial<RotateInput> = {}): RotateInput {
      const successor = `rt-${randomUUID()}`;
      return {
        sessionId: token.sessionId,
        generation: token.generation,
        presentedHash: token.hash,
        successorHash: successor,
        successorSealed: `sealed:${successor}`,
        now,
        graceMs: 10 * SEC,
        idleMs: 14 * DAY,
        presenter: PRESENTER,
        proofJkt: null,
        reuseEvent: {
          id: randomUUID(),
          type: 'refresh.reuse_detected',
          at: now,
          ip: '198.51.100.9',
          device: 'Firefox on Linux',
          data: null,
        },
        ...overrides,
      };
    }

    /** The token a rotation made current. */
    function successorOf(input: RotateInput): Token {
      return { sessionId: input.sessionId, generation: input.generation + 1, hash: input.successorHash };
    }

    function event(userId: string | null, at: number, overrides: Partial<AuthEvent> = {}): AuthEvent {
      return {
        id: randomUUID(),
        userId,
        type: 'login.succeeded',
        at,
        ip: '203.0.113.7',
        sessionId: null,
        device: 'Chrome on macOS',
        data: null,
        ...overrides,
      };
    }

    function signingKey(state: SigningKeyRecord['state'], at: number, kid = randomUUID()): SigningKeyRecord {
      return {
        kid,
        alg: 'EdDSA',
        state,
        publicJwk: `{"kid":"${kid}"}`,
        privateJwkSealed: `sealed-${kid}`,
        createdAt: at,
        updatedAt: at,
      };
    }

    describe('users and credentials', () => {
      it('createUser stores the user and credentials; lookups by email and id return them', async () => {
        const user = await addUser('ada@example.com');
        expect(await store.findUserByEmail('ada@example.com')).toEqual(user);
        expect(await store.findUserById(user.id)).toEqual(user);
        expect(await store.getCredentials(user.id)).toEqual({
          userId: user.id,
          passwordHash: 'hash-1',
          totpSecretSealed: null,
          totpConfirmedAt: null,
          totpLastStep: null,
        });
      });

      it('emailVerified round-trips: false for a password signup, true when the creator proved the address', async () => {
        const unverified = await addUser();
        expect((await store.findUserById(unverified.id))?.emailVerified).toBe(false);
        const verified = { ...newUser(), emailVerified: true };
        expect(await store.createUser(verified, 'h')).toBe('ok');
        expect(await store.findUserByEmail(verified.email)).toEqual(verified);
        expect((await store.listUsers({ limit: 10 })).users.find((u) => u.id === verified.id)?.emailVerified).toBe(
          true,
        );
      });

      it('a user without a name round-trips null', async () => {
        const user = { ...newUser(), name: null };
        expect(await store.createUser(user, 'h')).toBe('ok');
        expect(await store.findUserById(user.id)).toEqual(user);
      });

      it('unknown users give null', async () => {
        expect(await store.findUserByEmail('nobody@example.com')).toBeNull();
        expect(await store.findUserById(randomUUID())).toBeNull();
        expect(await store.getCredentials(randomUUID())).toBeNull();
      });

      it('a taken email answers email_taken and changes nothing', async () => {
        const first = await addUser('bob@example.com');
        const second = newUser('bob@example.com');
        expect(await store.createUser(second, 'hash-2')).toBe('email_taken');
        expect(await store.findUserById(second.id)).toBeNull();
        expect(await store.getCredentials(second.id)).toBeNull();
        expect((await store.getCredentials(first.id))?.passwordHash).toBe('hash-1');
      });

      it('email uniqueness is case-insensitive', async () => {
        await addUser('carol@example.com');
        expect(await store.createUser(newUser('Carol@Example.COM'), 'h')).toBe('email_taken');
      });

      it('concurrent signups with one email: exactly one wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.createUser(newUser('race@example.com'), 'h')),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        expect(results.filter((r) => r === 'email_taken')).toHaveLength(9);
      });

      it('setPasswordHash replaces the hash', async () => {
        const user = await addUser();
        await store.setPasswordHash(user.id, 'hash-new');
        expect((await store.getCredentials(user.id))?.passwordHash).toBe('hash-new');
      });

      it('setTotp changes only the given fields', async () => {
        const user = await addUser();
        await store.setTotp(user.id, { totpSecretSealed: 'secret-sealed' });
        expect(await store.getCredentials(user.id)).toMatchObject({
          totpSecretSealed: 'secret-sealed',
          totpConfirmedAt: null,
          totpLastStep: null,
        });
        await store.setTotp(user.id, { totpConfirmedAt: T0 + 5, totpLastStep: 42 });
        expect(await store.getCredentials(user.id)).toMatchObject({
          totpSecretSealed: 'secret-sealed',
          totpConfirmedAt: T0 + 5,
          totpLastStep: 42,
          passwordHash: 'hash-1',
        });
        await store.setTotp(user.id, { totpSecretSealed: null, totpConfirmedAt: null, totpLastStep: null });
        expect(await store.getCredentials(user.id)).toMatchObject({
          totpSecretSealed: null,
          totpConfirmedAt: null,
          totpLastStep: null,
        });
      });

      it('claimTotpStep accepts only steps greater than the last one', async () => {
        const user = await addUser();
        expect(await store.claimTotpStep(user.id, 1000)).toBe(true);
        expect(await store.claimTotpStep(user.id, 1000)).toBe(false);
        expect(await store.claimTotpStep(user.id, 999)).toBe(false);
        expect(await store.claimTotpStep(user.id, 1001)).toBe(true);
        expect((await store.getCredentials(user.id))?.totpLastStep).toBe(1001);
        expect(await store.claimTotpStep(randomUUID(), 5)).toBe(false);
      });

      it('claimTotpStep: concurrent claims of one step, exactly one succeeds', async () => {
        const user = await addUser();
        const results = await Promise.all(Array.from({ length: 10 }, () => store.claimTotpStep(user.id, 77)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('sessions', () => {
      it('createSession stores the session and its first refresh token', async () => {
        const user = await addUser();
        const { session, refreshHash } = await addSession(user.id, T0, {
          amr: ['pwd', 'otp'],
          dpopJkt: 'jkt-1',
          deviceId: null,
          newDevice: false,
          clientId: 'com.example.native',
        });
        expect(await store.getSession(session.id)).toEqual(session);
        // The first token is current: it rotates. Nothing is looked up by hash for it (legacy tokens only).
        expect(await store.findSessionByRefreshHash(refreshHash)).toBeNull();
        expect(
          (
            await store.rotateRefreshToken(
              rotateInput({ sessionId: session.id, generation: 1, hash: refreshHash }, T0 + SEC, { proofJkt: 'jkt-1' }),
            )
          ).kind,
        ).toBe('rotated');
        expect(await store.getSession(randomUUID())).toBeNull();
      });

      it('createSession evicts the least recently active sessions beyond maxSessions', async () => {
        const user = await addUser();
        const other = await addUser();
        const a = await addSession(user.id, T0);
        const b = await addSession(user.id, T0 + 1 * SEC);
        const c = await addSession(user.id, T0 + 2 * SEC);
        const foreign = await addSession(other.id, T0);
        await store.touchSession(a.session.id, T0 + 3 * SEC); // a is now the most recently active; b the least
        const d = newSession(user.id, T0 + 4 * SEC);
        const result = await store.createSession({ session: d, refreshHash: `rt-${randomUUID()}`, maxSessions: 3 });
        expect(result.evicted).toEqual([b.session.id]);
        expect(await store.getSession(b.session.id)).toMatchObject({
          revokedAt: T0 + 4 * SEC,
          revokeReason: 'session_limit',
        });
        expect((await store.listActiveSessions(user.id, T0 + 4 * SEC)).map((s) => s.id)).toEqual([
          d.id,
          a.session.id,
          c.session.id,
        ]);
        expect((await store.getSession(foreign.session.id))?.revokedAt).toBeNull();
        expect(await store.listRevocationsSince(0)).toEqual([{ sessionId: b.session.id, at: T0 + 4 * SEC }]);
      });

      it('createSession does not count revoked or expired sessions against the limit', async () => {
        const user = await addUser();
        const revoked = await addSession(user.id, T0);
        await store.revokeSession(revoked.session.id, T0 + 1, 'logout');
        await addSession(user.id, T0, { idleExpiresAt: T0 + 10 * SEC });
        const live = await addSession(user.id, T0 + 1 * SEC);
        const { evicted } = await store.createSession({
          session: newSession(user.id, T0 + 60 * SEC),
          refreshHash: `rt-${randomUUID()}`,
          maxSessions: 2,
        });
        expect(evicted).toEqual([]);
        expect((await store.getSession(live.session.id))?.revokedAt).toBeNull();
      });

      it('concurrent logins never leave more than maxSessions active', async () => {
        const user = await addUser();
        await Promise.all(Array.from({ length: 12 }, (_, i) => addSession(user.id, T0 + i, {}, 5)));
        expect(await store.listActiveSessions(user.id, T0 + SEC)).toHaveLength(5);
      });

      it('listActiveSessions excludes revoked and expired sessions, most recently active first', async () => {
        const user = await addUser();
        const now = T0 + DAY;
        const old = await addSession(user.id, T0);
        const recent = await addSession(user.id, T0 + 10 * SEC);
        const revoked = await addSession(user.id, T0);
        await store.revokeSession(revoked.session.id, T0 + 1, 'logout');
        await addSession(user.id, T0, { idleExpiresAt: now });
        await addSession(user.id, T0, { absoluteExpiresAt: now - 1 });
        await store.touchSession(old.session.id, T0 + 20 * SEC);
        const active = await store.listActiveSessions(user.id, now);
        expect(active.map((s) => s.id)).toEqual([old.session.id, recent.session.id]);
        expect(active[0]?.lastActiveAt).toBe(T0 + 20 * SEC);
      });

      it('revokeSession revokes once, records a revocation and returns the revoked session', async () => {
        const user = await addUser();
        const { session } = await addSession(user.id);
        const revoked = await store.revokeSession(session.id, T0 + 5 * SEC, 'logout');
        expect(revoked).toEqual({ ...session, revokedAt: T0 + 5 * SEC, revokeReason: 'logout' });
        expect(await store.revokeSession(session.id, T0 + 6 * SEC, 'admin')).toBeNull();
        expect(await store.getSession(session.id)).toMatchObject({ revokedAt: T0 + 5 * SEC, revokeReason: 'logout' });
        expect(await store.revokeSession(randomUUID(), T0, 'logout')).toBeNull();
        expect(await store.listRevocationsSince(T0)).toEqual([{ sessionId: session.id, at: T0 + 5 * SEC }]);
      });

      it('revokeUserSessions revokes every active session of the user except the given one', async () => {
        const user = await addUser();
        const other = await addUser();
        const keep = await addSession(user.id);
        const s1 = await addSession(user.id);
        const s2 = await addSession(user.id);
        const already = await addSession(user.id);
        await store.revokeSession(already.session.id, T0 + 1, 'logout');
        const foreign = await addSession(other.id);
        const ids = await store.revokeUserSessions(user.id, T0 + 2 * SEC, 'revoke_others', keep.session.id);
        expect(ids.sort()).toEqual([s1.session.id, s2.session.id].sort());
        expect((await store.getSession(keep.session.id))?.revokedAt).toBeNull();
        expect(await store.getSession(s1.session.id)).toMatchObject({
          revokedAt: T0 + 2 * SEC,
          revokeReason: 'revoke_others',
        });
        expect(await store.getSession(already.session.id)).toMatchObject({ revokeReason: 'logout' });
        expect((await store.getSession(foreign.session.id))?.revokedAt).toBeNull();
        const revocations = await store.listRevocationsSince(T0 + 2 * SEC);
        expect(revocations.map((r) => r.sessionId).sort()).toEqual(ids.sort());
        expect(await store.revokeUserSessions(user.id, T0 + 3 * SEC, 'logout_all')).toEqual([keep.session.id]);
        expect(await store.listActiveSessions(user.id, T0 + 3 * SEC)).toEqual([]);
      });

      it('listRevocationsSince is inclusive of `since` and oldest first', async () => {
        const user = await addUser();
        const a = await addSession(user.id);
        const b = await addSession(user.id);
        const c = await addSession(user.id);
        await store.revokeSession(b.session.id, T0 + 20, 'logout');
        await store.revokeSession(a.session.id, T0 + 10, 'logout');
        await store.revokeSession(c.session.id, T0 + 30, 'logout');
        expect(await store.listRevocationsSince(T0 + 20)).toEqual([
          { sessionId: b.session.id, at: T0 + 20 },
          { sessionId: c.session.id, at: T0 + 30 },
        ]);
        expect(await store.listRevocationsSince(T0 + 31)).toEqual([]);
      });
    });

    describe('refresh rotation', () => {
      it('the current token rotates: the successor becomes current and the idle expiry moves; the session keeps its client', async () => {
        const user = await addUser();
        const added = await addSession(user.id, T0, { clientId: 'com.example.native' });
        const now = T0 + DAY;
        const input = rotateInput(firstToken(added), now);
        const outcome = await store.rotateRefreshToken(input);
        const expected = { ...added.session, lastActiveAt: now, idleExpiresAt: now + 14 * DAY };
        expect(outcome).toEqual({ kind: 'rotated', session: expected, retry: false });
        expect(await store.getSession(added.session.id)).toEqual(expected);
        const next = await store.rotateRefreshToken(rotateInput(successorOf(input), now + 60 * SEC));
        expect(next.kind).toBe('rotated');
      });

      it('constant space: 2,000 rotations of one session store nothing per rotation, and every earlier token is reuse', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const earlier: Token[] = [];
        let token = firstToken(added);
        for (let i = 0; i < 2000; i++) {
          const input = rotateInput(token, T0 + (i + 1) * SEC, { graceMs: 0 });
          expect((await store.rotateRefreshToken(input)).kind).toBe('rotated');
          if (i % 40 === 0) earlier.push(token);
          token = successorOf(input);
        }
        // Any one of 50 earlier tokens, presented from another device, revokes the session.
        const old = earlier[Math.floor(earlier.length / 2)] as Token;
        const outcome = await store.rotateRefreshToken(
          rotateInput(old, T0 + 3000 * SEC, { presenter: OTHER_PRESENTER }),
        );
        expect(outcome.kind).toBe('reused');
      });

      it('every one of 50 earlier tokens is reuse, whoever presents it (one session each)', async () => {
        const user = await addUser();
        for (let k = 0; k < 50; k++) {
          const added = await addSession(user.id);
          let token = firstToken(added);
          const chain: Token[] = [token];
          for (let i = 0; i < 3; i++) {
            const input = rotateInput(token, T0 + (i + 1) * SEC);
            await store.rotateRefreshToken(input);
            token = successorOf(input);
            chain.push(token);
          }
          // Two or three generations back, after the grace window: reuse even from the rotating device.
          const old = chain[k % 2] as Token;
          expect((await store.rotateRefreshToken(rotateInput(old, T0 + 60 * SEC))).kind, `session ${k}`).toBe('reused');
        }
      });

      it('the idle expiry never passes the absolute expiry', async () => {
        const user = await addUser();
        const added = await addSession(user.id, T0, { idleExpiresAt: T0 + 29 * DAY });
        const now = T0 + 25 * DAY;
        const outcome = await store.rotateRefreshToken(rotateInput(firstToken(added), now));
        expect(outcome.kind === 'rotated' && outcome.session.idleExpiresAt).toBe(added.session.absoluteExpiresAt);
      });

      it('the predecessor within the grace window, from the rotating device: the same sealed successor, nothing changes', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const first = rotateInput(firstToken(added), T0 + SEC);
        expect((await store.rotateRefreshToken(first)).kind).toBe('rotated');
        const again = rotateInput(firstToken(added), T0 + SEC + 9_999);
        const outcome = await store.rotateRefreshToken(again);
        expect(outcome).toEqual({
          kind: 'grace',
          session: { ...added.session, lastActiveAt: T0 + SEC, idleExpiresAt: T0 + SEC + 14 * DAY },
          successorSealed: first.successorSealed,
        });
        expect(await store.listRevocationsSince(0)).toEqual([]);
        // The successor handed out by the grace answer is still the current token.
        expect((await store.rotateRefreshToken(rotateInput(successorOf(first), T0 + 20 * SEC))).kind).toBe('rotated');
      });

      it('racing tabs › a token overtaken by two rotations (same device, within the window) still gets its own graced successor; elsewhere or later it is reuse', async () => {
        const user = await addUser();
        for (const [presenter, at, expected] of [
          [PRESENTER, T0 + 3 * SEC, 'grace'],
          [OTHER_PRESENTER, T0 + 3 * SEC, 'reused'],
          [PRESENTER, T0 + 30 * SEC, 'reused'],
        ] as const) {
          const added = await addSession(user.id);
          const first = rotateInput(firstToken(added), T0 + SEC);
          await store.rotateRefreshToken(first);
          await store.rotateRefreshToken(rotateInput(successorOf(first), T0 + 2 * SEC));
          const late = await store.rotateRefreshToken(rotateInput(firstToken(added), at, { presenter }));
          expect(late.kind, `${presenter === PRESENTER ? 'same' : 'other'} device at +${(at - T0) / SEC} s`).toBe(
            expected,
          );
          if (late.kind === 'grace') expect(late.successorSealed).toBe(first.successorSealed);
        }
      });

      it('lost answer › the predecessor after the grace window, from the rotating device, with its successor unused: rotates again', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const first = rotateInput(firstToken(added), T0 + SEC);
        await store.rotateRefreshToken(first);
        // The answer never arrived; the client retries long after the window.
        const retry = rotateInput(firstToken(added), T0 + 3600 * SEC);
        const outcome = await store.rotateRefreshToken(retry);
        expect(outcome.kind).toBe('rotated');
        expect(outcome.kind === 'rotated' && outcome.retry).toBe(true);
        expect(await store.listRevocationsSince(0)).toEqual([]);
        // The retry's successor is current; the superseded one counts as reuse if it ever surfaces.
        expect((await store.rotateRefreshToken(rotateInput(successorOf(retry), T0 + 3601 * SEC))).kind).toBe('rotated');
        const superseded = await store.rotateRefreshToken(rotateInput(successorOf(first), T0 + 3602 * SEC));
        expect(superseded.kind).toBe('reused');
      });

      it('lost answer › a superseded successor presented before anything else is reuse', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const first = rotateInput(firstToken(added), T0 + SEC);
        await store.rotateRefreshToken(first);
        await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + 100 * SEC));
        expect((await store.rotateRefreshToken(rotateInput(successorOf(first), T0 + 101 * SEC))).kind).toBe('reused');
      });

      it('lost answer › once the successor was used, the predecessor is reuse even from the rotating device', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const first = rotateInput(firstToken(added), T0 + SEC);
        await store.rotateRefreshToken(first);
        await store.rotateRefreshToken(rotateInput(successorOf(first), T0 + 2 * SEC));
        expect((await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + 100 * SEC))).kind).toBe('reused');
      });

      it('grace window › a stolen rotated token from another device is reuse and revokes the session', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const { session } = added;
        const first = rotateInput(firstToken(added), T0 + SEC);
        expect((await store.rotateRefreshToken(first)).kind).toBe('rotated');
        const now = T0 + 2 * SEC; // well inside the window
        const theft = rotateInput(firstToken(added), now, { presenter: OTHER_PRESENTER });
        const outcome = await store.rotateRefreshToken(theft);
        expect(outcome.kind).toBe('reused');
        expect(outcome).not.toHaveProperty('successorSealed');
        expect(await store.getSession(session.id)).toMatchObject({ revokedAt: now, revokeReason: 'refresh_reuse' });
        expect(await store.listRevocationsSince(0)).toEqual([{ sessionId: session.id, at: now }]);
        expect((await store.listEvents(user.id, { limit: 10 })).events).toEqual([
          { ...theft.reuseEvent, userId: user.id, sessionId: session.id },
        ]);
        // The rotating device's own re-presentation, and the successor, now find the session revoked.
        expect((await store.rotateRefreshToken(rotateInput(firstToken(added), now + 1))).kind).toBe('expired');
        expect((await store.rotateRefreshToken(rotateInput(successorOf(first), now + 1))).kind).toBe('expired');
      });

      it('lost answer › the predecessor after the window from another device is reuse', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC));
        const outcome = await store.rotateRefreshToken(
          rotateInput(firstToken(added), T0 + 3600 * SEC, { presenter: OTHER_PRESENTER }),
        );
        expect(outcome.kind).toBe('reused');
      });

      it('grace window › a presenter without a device identity gets no grace, and neither does a token rotated without one', async () => {
        const user = await addUser();
        const anonymous = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(anonymous), T0 + SEC, { presenter: null }));
        expect(
          (await store.rotateRefreshToken(rotateInput(firstToken(anonymous), T0 + 2 * SEC, { presenter: null }))).kind,
        ).toBe('reused');
        const identified = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(identified), T0 + SEC));
        expect(
          (await store.rotateRefreshToken(rotateInput(firstToken(identified), T0 + 2 * SEC, { presenter: null }))).kind,
        ).toBe('reused');
        const rotatedAnonymously = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(rotatedAnonymously), T0 + SEC, { presenter: null }));
        expect((await store.rotateRefreshToken(rotateInput(firstToken(rotatedAnonymously), T0 + 2 * SEC))).kind).toBe(
          'reused',
        );
      });

      it('grace window › the device check rides on the rotation: a presenter that differs only in its last character is reuse', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC));
        const almost = `${PRESENTER.slice(0, -1)}${PRESENTER.endsWith('c') ? 'd' : 'c'}`;
        expect(
          (await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + 2 * SEC, { presenter: almost }))).kind,
        ).toBe('reused');
      });

      it('a grace window of 0: the same device rotates again (a retry), another device is reuse', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC, { graceMs: 0 }));
        const retry = await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC, { graceMs: 0 }));
        expect(retry.kind === 'rotated' && retry.retry).toBe(true);
        const theft = await store.rotateRefreshToken(
          rotateInput(firstToken(added), T0 + SEC, { graceMs: 0, presenter: OTHER_PRESENTER }),
        );
        expect(theft.kind).toBe('reused');
      });

      it('a forged token naming a live session (right generation, wrong hash; or a future generation) neither passes nor revokes it', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const future = await store.rotateRefreshToken(rotateInput({ ...firstToken(added), generation: 7 }, T0 + SEC));
        expect(future).toEqual({ kind: 'invalid' });
        expect((await store.getSession(added.session.id))?.revokedAt).toBeNull();
        expect((await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + 2 * SEC))).kind).toBe('rotated');
      });

      it('a token of an unknown session is invalid', async () => {
        expect(
          await store.rotateRefreshToken(
            rotateInput({ sessionId: randomUUID(), generation: 1, hash: 'rt-unknown' }, T0),
          ),
        ).toEqual({
          kind: 'invalid',
        });
      });

      it('a DPoP-bound session rotates only with its key: its current token with another key or no proof is binding_mismatch and nothing changes', async () => {
        const user = await addUser();
        const added = await addSession(user.id, T0, { dpopJkt: 'jkt-of-the-client' });
        for (const proofJkt of ['jkt-of-a-thief', null]) {
          expect(await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC, { proofJkt }))).toEqual({
            kind: 'binding_mismatch',
          });
        }
        expect(await store.getSession(added.session.id)).toEqual(added.session);
        expect(
          (await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC, { proofJkt: 'jkt-of-the-client' })))
            .kind,
        ).toBe('rotated');
      });

      it('a DPoP-bound session: its rotated token presented with another key is reuse (another device), and revokes it', async () => {
        const user = await addUser();
        const added = await addSession(user.id, T0, { dpopJkt: 'jkt-of-the-client' });
        await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC, { proofJkt: 'jkt-of-the-client' }));
        const theft = await store.rotateRefreshToken(
          rotateInput(firstToken(added), T0 + 2 * SEC, { proofJkt: 'jkt-of-a-thief', presenter: OTHER_PRESENTER }),
        );
        expect(theft.kind).toBe('reused');
        expect((await store.getSession(added.session.id))?.revokeReason).toBe('refresh_reuse');
      });

      it('RFC 9449 §5: an unbound session refreshed with a proof becomes bound to that key; then no other key (or none) rotates it', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const bound = rotateInput(firstToken(added), T0 + SEC, { proofJkt: 'jkt-new' });
        const outcome = await store.rotateRefreshToken(bound);
        expect(outcome.kind === 'rotated' && outcome.session.dpopJkt).toBe('jkt-new');
        expect(await store.rotateRefreshToken(rotateInput(successorOf(bound), T0 + 2 * SEC))).toEqual({
          kind: 'binding_mismatch',
        });
        expect(
          (await store.rotateRefreshToken(rotateInput(successorOf(bound), T0 + 3 * SEC, { proofJkt: 'jkt-new' }))).kind,
        ).toBe('rotated');
        // Without a proof an unbound session stays unbound.
        const plain = await addSession(user.id);
        const unbound = await store.rotateRefreshToken(rotateInput(firstToken(plain), T0 + SEC));
        expect(unbound.kind === 'rotated' && unbound.session.dpopJkt).toBeNull();
      });

      it('an idle-expired session is expired and nothing rotates', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const input = rotateInput(firstToken(added), added.session.idleExpiresAt);
        expect(await store.rotateRefreshToken(input)).toEqual({ kind: 'expired', session: added.session });
      });

      it('a session past its absolute lifetime is expired', async () => {
        const user = await addUser();
        const added = await addSession(user.id, T0, { idleExpiresAt: T0 + 40 * DAY });
        expect(await store.rotateRefreshToken(rotateInput(firstToken(added), added.session.absoluteExpiresAt))).toEqual(
          {
            kind: 'expired',
            session: added.session,
          },
        );
      });

      it('a revoked session is expired, also for a token used within the grace window', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + SEC));
        await store.revokeSession(added.session.id, T0 + 2 * SEC, 'logout');
        const outcome = await store.rotateRefreshToken(rotateInput(firstToken(added), T0 + 3 * SEC));
        expect(outcome.kind).toBe('expired');
        expect(outcome.kind === 'expired' && outcome.session.revokeReason).toBe('logout');
      });

      it('20 concurrent rotations of one token from one device: one rotated, the rest grace with its successor', async () => {
        const user = await addUser();
        const added = await addSession(user.id);
        const inputs = Array.from({ length: 20 }, () => rotateInput(firstToken(added), T0 + SEC));
        const outcomes = await Promise.all(inputs.map((input) => store.rotateRefreshToken(input)));
        const rotatedIndex = outcomes.findIndex((o) => o.kind === 'rotated');
        expect(outcomes.filter((o) => o.kind === 'rotated')).toHaveLength(1);
        expect(outcomes.filter((o) => o.kind === 'grace')).toHaveLength(19);
        const winner = inputs[rotatedIndex] as RotateInput;
        for (const o of outcomes) if (o.kind === 'grace') expect(o.successorSealed).toBe(winner.successorSealed);
        // Exactly the winner's successor is current; any other (never stored) successor is reuse.
        expect((await store.rotateRefreshToken(rotateInput(successorOf(winner), T0 + 2 * SEC))).kind).toBe('rotated');
        const loser = inputs[(rotatedIndex + 1) % inputs.length] as RotateInput;
        expect((await store.rotateRefreshToken(rotateInput(successorOf(loser), T0 + 3 * SEC))).kind).toBe('reused');
      });
    });

    describe('events', () => {
      it('recordEvent and listEvents round-trip every field, newest first, only the user’s own', async () => {
        const user = await addUser();
        const other = await addUser();
        const older = event(user.id, T0, {
          data: { reason: 'session_limit', n: 2, nested: { ok: true } },
          sessionId: 's-1',
        });
        const newer = event(user.id, T0 + 10, { ip: null, device: null, type: 'logout' });
        await store.recordEvent(older);
        await store.recordEvent(newer);
        await store.recordEvent(event(other.id, T0 + 5));
        await store.recordEvent(event(null, T0 + 5, { type: 'login.failed' }));
        expect(await store.listEvents(user.id, { limit: 10 })).toEqual({ events: [newer, older], nextCursor: null });
      });

      it('pages with a cursor, stable when events share a timestamp', async () => {
        const user = await addUser();
        const all: AuthEvent[] = [];
        for (let i = 0; i < 7; i++) all.push(event(user.id, T0 + Math.floor(i / 3)));
        for (const e of [...all].reverse()) await store.recordEvent(e);
        const expected = [...all]
          .sort((a, b) => b.at - a.at || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0))
          .map((e) => e.id);
        const seen: string[] = [];
        let before: string | undefined;
        let pages = 0;
        do {
          const page = await store.listEvents(user.id, { limit: 3, before });
          seen.push(...page.events.map((e) => e.id));
          before = page.nextCursor ?? undefined;
          pages++;
          // A page added while paging (newer) does not disturb the older pages.
          if (pages === 1) await store.recordEvent(event(user.id, T0 + 100));
        } while (before !== undefined && pages < 10);
        expect(pages).toBe(3);
        expect(seen).toEqual(expected);
      });

      it('an exact multiple of the page size ends with a null cursor', async () => {
        const user = await addUser();
        for (let i = 0; i < 4; i++) await store.recordEvent(event(user.id, T0 + i));
        const first = await store.listEvents(user.id, { limit: 2 });
        expect(first.nextCursor).not.toBeNull();
        const second = await store.listEvents(user.id, { limit: 2, before: first.nextCursor ?? undefined });
        expect(second.events.map((e) => e.at)).toEqual([T0 + 1, T0]);
        expect(second.nextCursor).toBeNull();
      });

      it('a malformed cursor gives an empty page, not an error', async () => {
        const user = await addUser();
        await store.recordEvent(event(user.id, T0));
        expect(await store.listEvents(user.id, { limit: 5, before: 'not a cursor!' })).toEqual({
          events: [],
          nextCursor: null,
        });
      });
    });

    describe('prune', () => {
      it('deletes old events, old revocations and dead sessions (revoked or past their absolute lifetime); keeps the rest', async () => {
        const user = await addUser();
        const cutoff = T0 + 40 * DAY;
        await store.recordEvent(event(user.id, cutoff - 1));
        const kept = event(user.id, cutoff);
        await store.recordEvent(kept);

        const revoked = await addSession(user.id, T0);
        await store.rotateRefreshToken(rotateInput(firstToken(revoked), T0 + SEC));
        await store.revokeSession(revoked.session.id, T0 + 2 * SEC, 'logout'); // + 1 revocation
        const expired = await addSession(user.id, T0); // absolute expiry T0 + 30 d < cutoff
        const live = await addSession(user.id, cutoff - DAY);
        const recentlyRevoked = await addSession(user.id, cutoff - DAY);
        await store.revokeSession(recentlyRevoked.session.id, cutoff + 1, 'logout');

        // 1 event + 1 revocation + 2 sessions (their refresh state is on their own row)
        expect(await store.prune(cutoff)).toBe(4);
        expect((await store.listEvents(user.id, { limit: 10 })).events).toEqual([kept]);
        expect(await store.listRevocationsSince(0)).toEqual([
          { sessionId: recentlyRevoked.session.id, at: cutoff + 1 },
        ]);
        expect(await store.getSession(revoked.session.id)).toBeNull();
        expect(await store.getSession(expired.session.id)).toBeNull();
        expect(await store.getSession(live.session.id)).not.toBeNull();
        expect((await store.rotateRefreshToken(rotateInput(firstToken(live), cutoff)))?.kind).toBe('rotated');
        expect(await store.getSession(recentlyRevoked.session.id)).not.toBeNull();
        expect(await store.prune(cutoff)).toBe(0);
      });
    });

    describe('signing keys', () => {
      it('inserts keys, lists them oldest first, allows one current key', async () => {
        const next = signingKey('next', T0 + 2);
        const current = signingKey('current', T0 + 1);
        expect(await store.insertSigningKey(current)).toBe(true);
        expect(await store.insertSigningKey(next)).toBe(true);
        expect(await store.insertSigningKey(signingKey('current', T0 + 3))).toBe(false);
        expect(await store.listSigningKeys()).toEqual([current, next]);
      });

      it('state changes record the time; a new current key can follow a retiring one', async () => {
        const old = signingKey('current', T0);
        await store.insertSigningKey(old);
        await store.setSigningKeyState(old.kid, 'retiring', T0 + 10);
        const fresh = signingKey('current', T0 + 10);
        expect(await store.insertSigningKey(fresh)).toBe(true);
        await store.setSigningKeyState(old.kid, 'retired', T0 + 20);
        expect(await store.listSigningKeys()).toEqual([{ ...old, state: 'retired', updatedAt: T0 + 20 }, fresh]);
      });

      it('promoting a second key to current fails', async () => {
        await store.insertSigningKey(signingKey('current', T0));
        const next = signingKey('next', T0 + 1);
        await store.insertSigningKey(next);
        await expect(store.setSigningKeyState(next.kid, 'current', T0 + 2)).rejects.toThrow();
        expect((await store.listSigningKeys()).filter((k) => k.state === 'current')).toHaveLength(1);
      });

      it('two nodes inserting a first current key at once: exactly one wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) => store.insertSigningKey(signingKey('current', T0 + i))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.listSigningKeys()).toHaveLength(1);
      });
    });

    describe('federated identities', () => {
      const ISS = 'https://idp.example.com';
      const link = (userId: string, subject: string = randomUUID(), issuer = ISS): IdentityLink => ({
        issuer,
        subject,
        userId,
        email: 'ada@idp.example.com',
        createdAt: T0,
      });

      it('linkIdentity links an identity; findUserByIdentity returns its user', async () => {
        const user = await addUser();
        const l = link(user.id);
        expect(await store.linkIdentity(l)).toBe('ok');
        expect(await store.findUserByIdentity(ISS, l.subject)).toEqual(user);
      });

      it('an unknown identity gives null; issuer and subject both count', async () => {
        const user = await addUser();
        const l = link(user.id, 'sub-1');
        await store.linkIdentity(l);
        expect(await store.findUserByIdentity(ISS, 'sub-2')).toBeNull();
        expect(await store.findUserByIdentity('https://other.example.com', 'sub-1')).toBeNull();
      });

      it('an identity links to one user only; a user may have several identities', async () => {
        const [a, b] = [await addUser(), await addUser()];
        const l = link(a.id, 'sub-1');
        expect(await store.linkIdentity(l)).toBe('ok');
        expect(await store.linkIdentity({ ...l, userId: b.id })).toBe('identity_taken');
        expect(await store.findUserByIdentity(ISS, 'sub-1')).toEqual(a);
        expect(await store.linkIdentity(link(a.id, 'sub-1', 'https://other.example.com'))).toBe('ok');
        expect(await store.findUserByIdentity('https://other.example.com', 'sub-1')).toEqual(a);
      });

      it('createUserWithIdentity creates the user, credentials and link together (with the email verified as given)', async () => {
        const user = { ...newUser(), emailVerified: true };
        expect(await store.createUserWithIdentity(user, 'hash-x', link('ignored', 'sub-new'))).toBe('ok');
        expect(await store.findUserByIdentity(ISS, 'sub-new')).toEqual(user);
        expect(await store.findUserByEmail(user.email)).toEqual(user);
        expect((await store.getCredentials(user.id))?.passwordHash).toBe('hash-x');
      });

      it('createUserWithIdentity with a taken email writes nothing', async () => {
        const existing = await addUser('taken@example.com');
        const user = newUser('TAKEN@example.com');
        expect(await store.createUserWithIdentity(user, 'hash-x', link(user.id, 'sub-e'))).toBe('email_taken');
        expect(await store.findUserById(user.id)).toBeNull();
        expect(await store.findUserByIdentity(ISS, 'sub-e')).toBeNull();
        expect(await store.findUserByEmail('taken@example.com')).toEqual(existing);
      });

      it('createUserWithIdentity with a linked identity writes nothing', async () => {
        const owner = await addUser();
        await store.linkIdentity(link(owner.id, 'sub-l'));
        const user = newUser();
        expect(await store.createUserWithIdentity(user, 'hash-x', link(user.id, 'sub-l'))).toBe('identity_taken');
        expect(await store.findUserById(user.id)).toBeNull();
        expect(await store.findUserByEmail(user.email)).toBeNull();
        expect(await store.findUserByIdentity(ISS, 'sub-l')).toEqual(owner);
      });

      it('concurrent first logins of one identity: exactly one user is created', async () => {
        const users = Array.from({ length: 5 }, () => newUser());
        const results = await Promise.all(
          users.map((u) => store.createUserWithIdentity(u, 'hash-x', link(u.id, 'sub-race'))),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        expect(results.filter((r) => r === 'identity_taken')).toHaveLength(4);
        const winner = users[results.indexOf('ok')];
        expect(await store.findUserByIdentity(ISS, 'sub-race')).toEqual(winner);
        for (const u of users) if (u !== winner) expect(await store.findUserById(u.id)).toBeNull();
      });
    });

    describe('account lifecycle (updateUser, deleteUser)', () => {
      const KEEP = ['login.failed', 'refresh.reuse_detected', 'account.deleted'];
      const deletion = (userId: string, at = T0 + 5 * SEC) => ({
        userId,
        at,
        keepEventTypes: KEEP,
        event: event(null, at, { type: 'account.deleted', ip: '198.51.100.1', device: null }),
      });

      it('updateUser changes only the given fields; an active user has no disabledAt, a disabled one has the time', async () => {
        const user = await addUser('ada@example.com');
        expect(await store.updateUser(user.id, { emailVerified: true })).toBe('ok');
        expect(await store.findUserById(user.id)).toEqual({ ...user, emailVerified: true });
        expect(await store.updateUser(user.id, { disabledAt: T0 + 9 })).toBe('ok');
        expect(await store.findUserById(user.id)).toEqual({ ...user, emailVerified: true, disabledAt: T0 + 9 });
        expect((await store.listUsers({ limit: 5 })).users[0]).toMatchObject({ disabledAt: T0 + 9 });
        expect(await store.updateUser(user.id, { disabledAt: null })).toBe('ok');
        const back = await store.findUserById(user.id);
        expect(back).toEqual({ ...user, emailVerified: true });
        expect(back && 'disabledAt' in back).toBe(false);
        expect((await store.getCredentials(user.id))?.passwordHash).toBe('hash-1');
      });

      it('updateUser moves the address: the old one is free, the new one found (in any case)', async () => {
        const user = await addUser('old@example.com');
        expect(await store.updateUser(user.id, { email: 'new@example.com', emailVerified: true })).toBe('ok');
        expect(await store.findUserByEmail('NEW@example.com')).toEqual({
          ...user,
          email: 'new@example.com',
          emailVerified: true,
        });
        expect(await store.findUserByEmail('old@example.com')).toBeNull();
        expect(await store.createUser(newUser('old@example.com'), 'h')).toBe('ok');
      });

      it("updateUser to another user's address is email_taken and changes nothing", async () => {
        const a = await addUser('a@example.com');
        await addUser('b@example.com');
        expect(await store.updateUser(a.id, { email: 'B@example.com', emailVerified: true })).toBe('email_taken');
        expect(await store.findUserById(a.id)).toEqual(a);
      });

      it('updateUser with expectedEmail applies only while the address is still that one', async () => {
        const user = await addUser('first@example.com');
        expect(await store.updateUser(user.id, { emailVerified: true }, { expectedEmail: 'other@example.com' })).toBe(
          'not_found',
        );
        expect((await store.findUserById(user.id))?.emailVerified).toBe(false);
        expect(await store.updateUser(user.id, { emailVerified: true }, { expectedEmail: 'FIRST@example.com' })).toBe(
          'ok',
        );
        expect(await store.updateUser(randomUUID(), { emailVerified: true })).toBe('not_found');
        expect(await store.updateUser(user.id, {}, { expectedEmail: 'first@example.com' })).toBe('ok');
        expect(await store.updateUser(user.id, {}, { expectedEmail: 'x@example.com' })).toBe('not_found');
      });

      it('concurrent moves of two users to one free address: exactly one wins', async () => {
        const users = [await addUser(), await addUser(), await addUser(), await addUser()];
        const results = await Promise.all(users.map((u) => store.updateUser(u.id, { email: 'wanted@example.com' })));
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        expect(results.filter((r) => r === 'email_taken')).toHaveLength(3);
        expect((await store.findUserByEmail('wanted@example.com'))?.id).toBe(users[results.indexOf('ok')]?.id);
      });

      it('deleteUser removes the user, credentials, sessions, refresh tokens and identity links; returns the active sessions', async () => {
        const user = await addUser('gone@example.com');
        const other = await addUser();
        const live = await addSession(user.id, T0);
        const revoked = await addSession(user.id, T0);
        await store.revokeSession(revoked.session.id, T0 + SEC, 'logout');
        const expired = await addSession(user.id, T0 - 40 * DAY);
        const kept = await addSession(other.id, T0);
        await store.linkIdentity({
          issuer: 'https://idp.example.com',
          subject: 's-1',
          userId: user.id,
          email: null,
          createdAt: T0,
        });
        const ended = await store.deleteUser(deletion(user.id));
        expect(ended).toEqual([live.session.id]);
        expect(await store.findUserById(user.id)).toBeNull();
        expect(await store.findUserByEmail('gone@example.com')).toBeNull();
        expect(await store.getCredentials(user.id)).toBeNull();
        for (const s of [live, revoked, expired]) {
          expect(await store.getSession(s.session.id)).toBeNull();
          expect(await store.findSessionByRefreshHash(s.refreshHash)).toBeNull();
        }
        expect(await store.findUserByIdentity('https://idp.example.com', 's-1')).toBeNull();
        expect(await store.listUserSessions(user.id, { limit: 10 })).toEqual([]);
        // Every node learns that the live session ended, although its row is gone.
        expect((await store.listRevocationsSince(T0)).map((r) => r.sessionId)).toContain(live.session.id);
        // Nobody else is touched; the address is free again.
        expect(await store.getSession(kept.session.id)).toMatchObject({ revokedAt: null });
        expect(await store.findUserById(other.id)).toEqual(other);
        expect(await store.createUser(newUser('gone@example.com'), 'h')).toBe('ok');
      });

      it('deleteUser keeps the security events anonymised, deletes the rest, and records its own event', async () => {
        const user = await addUser();
        const other = await addUser();
        const s = await addSession(user.id, T0);
        await store.recordEvent(
          event(user.id, T0 + 1, { type: 'login.success', sessionId: s.session.id, data: { m: 1 } }),
        );
        await store.recordEvent(event(user.id, T0 + 2, { type: 'login.failed', data: { x: 1 } }));
        await store.recordEvent(event(user.id, T0 + 3, { type: 'refresh.reuse_detected', sessionId: s.session.id }));
        await store.recordEvent(event(other.id, T0 + 4, { type: 'login.success' }));
        const input = deletion(user.id);
        await store.deleteUser(input);
        expect((await store.listEvents(user.id, { limit: 10 })).events).toEqual([]);
        expect((await store.listEvents(other.id, { limit: 10 })).events).toHaveLength(1);
        // The kept and the new events have no user: prune (by time) is the only way to count them here —
        // other's event, the two kept, account.deleted, and the live session's revocation (the
        // user's own login.success is gone: it would make 6).
        expect(await store.prune(T0 + 3 * DAY)).toBe(5);
      });

      it('deleteUser keeps anonymised events readable to no one, with type, time and IP only', async () => {
        const user = await addUser();
        await store.recordEvent(
          event(user.id, T0 + 2, { type: 'login.failed', sessionId: randomUUID(), data: { x: 1 } }),
        );
        await store.deleteUser(deletion(user.id));
        // A user created later with the same id would not inherit them.
        const again = { ...newUser(), id: user.id };
        expect(await store.createUser(again, 'h')).toBe('ok');
        expect((await store.listEvents(user.id, { limit: 10 })).events).toEqual([]);
      });

      it('deleteUser of an unknown user is null and changes nothing', async () => {
        const user = await addUser();
        expect(await store.deleteUser(deletion(randomUUID()))).toBeNull();
        expect(await store.findUserById(user.id)).toEqual(user);
      });

      it('concurrent deletions of one user: one returns the sessions, the others null', async () => {
        const user = await addUser();
        const s = await addSession(user.id, T0);
        const results = await Promise.all(Array.from({ length: 5 }, () => store.deleteUser(deletion(user.id))));
        expect(results.filter((r) => r !== null)).toEqual([[s.session.id]]);
      });
    });

    describe('administration listings', () => {
      it('listUsers pages through every user in email order; the last page has no cursor', async () => {
        const emails = [
          'dora@example.com',
          'ada@example.com',
          'carl@example.com',
          'bea@example.com',
          'eve@example.com',
        ];
        for (const email of emails) await addUser(email);
        const first = await store.listUsers({ limit: 2 });
        expect(first.users.map((u) => u.email)).toEqual(['ada@example.com', 'bea@example.com']);
        expect(first.nextCursor).not.toBeNull();
        const second = await store.listUsers({ limit: 2, after: first.nextCursor ?? undefined });
        expect(second.users.map((u) => u.email)).toEqual(['carl@example.com', 'dora@example.com']);
        const third = await store.listUsers({ limit: 2, after: second.nextCursor ?? undefined });
        expect(third.users.map((u) => u.email)).toEqual(['eve@example.com']);
        expect(third.nextCursor).toBeNull();
        expect((await store.listUsers({ limit: 5 })).nextCursor).toBeNull();
      });

      it('listUsers returns whole users (id, email, emailVerified, name, createdAt), never credentials', async () => {
        const user = await addUser('zed@example.com');
        const { users } = await store.listUsers({ limit: 10 });
        expect(users).toEqual([user]);
        expect(Object.keys(users[0] ?? {}).sort()).toEqual(['createdAt', 'email', 'emailVerified', 'id', 'name']);
      });

      it('listUsers emailContains filters case-insensitively and literally (no wildcards)', async () => {
        for (const email of [
          'ann@corp.example',
          'bob@home.example',
          'cat@corp.example',
          'd_x@home.example',
          'dax@home.example',
        ])
          await addUser(email);
        expect((await store.listUsers({ limit: 10, emailContains: 'CORP' })).users.map((u) => u.email)).toEqual([
          'ann@corp.example',
          'cat@corp.example',
        ]);
        expect((await store.listUsers({ limit: 10, emailContains: 'd_' })).users.map((u) => u.email)).toEqual([
          'd_x@home.example',
        ]);
        expect((await store.listUsers({ limit: 10, emailContains: '%' })).users).toEqual([]);
        const page = await store.listUsers({ limit: 1, emailContains: 'corp' });
        expect(page.users.map((u) => u.email)).toEqual(['ann@corp.example']);
        const next = await store.listUsers({ limit: 1, emailContains: 'corp', after: page.nextCursor ?? undefined });
        expect(next.users.map((u) => u.email)).toEqual(['cat@corp.example']);
        expect(next.nextCursor).toBeNull();
      });

      it('listUsers on an empty store gives an empty page', async () => {
        expect(await store.listUsers({ limit: 10 })).toEqual({ users: [], nextCursor: null });
      });

      it('listUserSessions lists active, revoked and expired sessions of that user only, newest first, up to limit', async () => {
        const user = await addUser();
        const other = await addUser();
        const old = await addSession(user.id, T0, { idleExpiresAt: T0 + SEC });
        const revoked = await addSession(user.id, T0 + 1 * SEC);
        const active = await addSession(user.id, T0 + 2 * SEC);
        await addSession(other.id, T0 + 3 * SEC);
        await store.revokeSession(revoked.session.id, T0 + 5 * SEC, 'admin');
        const sessions = await store.listUserSessions(user.id, { limit: 10 });
        expect(sessions.map((s) => s.id)).toEqual([active.session.id, revoked.session.id, old.session.id]);
        expect(sessions[0]).toEqual(active.session);
        expect(sessions[1]).toMatchObject({ revokedAt: T0 + 5 * SEC, revokeReason: 'admin' });
        expect((await store.listUserSessions(user.id, { limit: 2 })).map((s) => s.id)).toEqual([
          active.session.id,
          revoked.session.id,
        ]);
        expect(await store.listUserSessions(randomUUID(), { limit: 10 })).toEqual([]);
      });
    });

    describe('health', () => {
      it('ping resolves while open', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });
  });
}
