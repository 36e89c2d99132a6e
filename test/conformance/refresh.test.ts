import { afterEach, describe, expect, it } from 'vitest';
import {
  Browser,
  createTestInstance,
  parseSetCookies,
  signup,
  TestClock,
  type TestInstance,
} from '../support/instance.js';

let t: TestInstance | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const RT = '__Secure-tw_rt';
const DEV = '__Host-tw_dev';
/** `POST /auth/refresh` with a refresh cookie and, like the browser that holds it, its device cookie (if any). */
const refreshWith = (
  inst: TestInstance,
  token: string,
  options: { device?: string | undefined; userAgent?: string } = {},
) =>
  inst.request('/auth/refresh', {
    method: 'POST',
    headers: {
      cookie: options.device === undefined ? `${RT}=${token}` : `${RT}=${token}; ${DEV}=${options.device}`,
      'sec-fetch-site': 'same-origin',
      ...(options.userAgent === undefined ? {} : { 'user-agent': options.userAgent }),
    },
  });
const code = async (res: Response) => ((await res.clone().json()) as { code: string }).code;

describe('refresh › rotation', () => {
  it('rotates: new access and refresh cookies, {session} only, the old token is spent', async () => {
    t = await createTestInstance();
    const b = new Browser(t.request);
    await signup(b);
    const first = b.cookies.get(RT) as string;
    const res = await b.fetch('/auth/refresh', { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['session']);
    const cookies = parseSetCookies(res);
    expect(cookies.get(RT)?.value).toMatch(/^twr_/);
    expect(cookies.get(RT)?.value).not.toBe(first);
    expect(cookies.get('__Host-tw_at')?.value).toMatch(/^eyJ/);
    expect((await b.fetch('/api/profile')).status).toBe(200);
  });

  it('within the grace window the same old token from the same browser returns the same successor (idempotent)', async () => {
    t = await createTestInstance();
    const b = new Browser(t.request);
    await signup(b);
    const old = b.cookies.get(RT) as string;
    const device = b.cookies.get(DEV);
    expect(device).toBeDefined();
    const r1 = await refreshWith(t, old, { device });
    const r2 = await refreshWith(t, old, { device });
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(200);
    expect(parseSetCookies(r2).get(RT)?.value).toBe(parseSetCookies(r1).get(RT)?.value);
  });

  it('20 concurrent refreshes of one token from one browser: exactly one successor, session alive', async () => {
    t = await createTestInstance();
    const b = new Browser(t.request);
    await signup(b);
    const old = b.cookies.get(RT) as string;
    const device = b.cookies.get(DEV);
    const inst = t;
    const results = await Promise.all(Array.from({ length: 20 }, () => refreshWith(inst, old, { device })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const successors = new Set(results.map((r) => parseSetCookies(r).get(RT)?.value));
    expect(successors.size).toBe(1);
    const successor = [...successors][0] as string;
    const next = await refreshWith(t, successor);
    expect(next.status).toBe(200);
  });

  it('reuse after the grace window revokes the session: 401 refresh_reused, cookies cleared, event recorded', async () => {
    const clock = new TestClock(Date.now());
    t = await createTestInstance({}, { clock });
    const b = new Browser(t.request);
    await signup(b);
    const old = b.cookies.get(RT) as string;
    const rotated = await refreshWith(t, old);
    const successor = parseSetCookies(rotated).get(RT)?.value as string;
    const access = parseSetCookies(rotated).get('__Host-tw_at')?.value as string;
    clock.advance(11);
    const reuse = await refreshWith(t, old);
    expect(reuse.status).toBe(401);
    expect(await code(reuse)).toBe('refresh_reused');
    expect(parseSetCookies(reuse).get(RT)?.attributes.get('max-age')).toBe('0');
    // The whole session is dead: the successor and the newest access token fail too.
    expect(await code(await refreshWith(t, successor))).toBe('session_expired');
    const profile = await t.request('/api/profile', { headers: { cookie: `__Host-tw_at=${access}` } });
    expect(profile.status).toBe(401);
    const me = (await (await t.request('/auth/me', { headers: { authorization: `Bearer ${access}` } })).json()) as {
      code: string;
    };
    expect(me.code).toBe('invalid_token');
  });

  it('grace 0 disables the idempotent replay', async () => {
    t = await createTestInstance({ refreshGrace: 0 });
    const b = new Browser(t.request);
    await signup(b);
    const old = b.cookies.get(RT) as string;
    expect((await refreshWith(t, old)).status).toBe(200);
    const again = await refreshWith(t, old);
    expect(again.status).toBe(401);
    expect(await code(again)).toBe('refresh_reused');
  });

  it('401 refresh_invalid for a missing, malformed or unknown token', async () => {
    t = await createTestInstance();
    const none = await t.request('/auth/refresh', { method: 'POST' });
    expect(none.status).toBe(401);
    expect(await code(none)).toBe('refresh_invalid');
    expect(await code(await refreshWith(t, 'garbage'))).toBe('refresh_invalid');
    expect(await code(await refreshWith(t, `twr_${'A'.repeat(43)}`))).toBe('refresh_invalid');
  });
});

/**
 * API.md "Tokens": a rotated token presented again within the grace window yields the successor
 * only to the device that rotated it (the same `__Host-tw_dev`); from anywhere else it is reuse.
 */
describe('grace window', () => {
  const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

  /** A victim signed in on one browser that has just refreshed; the predecessor is what a thief copied. */
  async function victimAfterRefresh(
    clock: TestClock,
  ): Promise<{ b: Browser; stolen: string; successor: string; sessionId: string; userId: string }> {
    t = await createTestInstance({}, { clock });
    const b = new Browser(t.request);
    const { response } = await signup(b);
    const { user, session } = (await response.json()) as { user: { id: string }; session: { id: string } };
    const stolen = b.cookies.get(RT) as string;
    expect((await b.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
    const successor = b.cookies.get(RT) as string;
    expect(successor).not.toBe(stolen);
    return { b, stolen, successor, sessionId: session.id, userId: user.id };
  }

  async function expectReuseDetected(
    inst: TestInstance,
    res: Response,
    victim: { b: Browser; successor: string; sessionId: string; userId: string },
  ): Promise<void> {
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('refresh_reused');
    const cookies = parseSetCookies(res);
    // The thief does not get the victim's successor; its cookies are cleared instead.
    expect(cookies.get(RT)?.value).not.toBe(victim.successor);
    expect(cookies.get(RT)?.attributes.get('max-age')).toBe('0');
    expect(cookies.get('__Host-tw_at')?.attributes.get('max-age')).toBe('0');
    // The whole session is revoked: the victim's successor and access token fail too.
    expect(await code(await refreshWith(inst, victim.successor, { device: victim.b.cookies.get(DEV) }))).toBe(
      'session_expired',
    );
    expect((await victim.b.fetch('/api/profile')).status).toBe(401);
    expect((await inst.tw.context.store.getSession(victim.sessionId))?.revokeReason).toBe('refresh_reuse');
    const { events } = await inst.tw.context.store.listEvents(victim.userId, { limit: 20 });
    expect(events.filter((e) => e.type === 'refresh.reuse_detected').map((e) => e.sessionId)).toEqual([
      victim.sessionId,
    ]);
  }

  it('a stolen rotated token from another device (no device cookie, another User-Agent) is reuse and revokes the session', async () => {
    const clock = new TestClock(Date.now());
    const victim = await victimAfterRefresh(clock);
    clock.advance(1);
    const inst = t as TestInstance;
    const thief = await refreshWith(inst, victim.stolen, { userAgent: FIREFOX });
    await expectReuseDetected(inst, thief, victim);
  });

  it("a stolen rotated token presented with another browser's device cookie is reuse and revokes the session", async () => {
    const clock = new TestClock(Date.now());
    const victim = await victimAfterRefresh(clock);
    const inst = t as TestInstance;
    // The thief's own browser: a valid device cookie of its own (it has an account here too).
    const own = new Browser(inst.request);
    await signup(own);
    const thiefDevice = own.cookies.get(DEV) as string;
    expect(thiefDevice).not.toBe(victim.b.cookies.get(DEV));
    clock.advance(1);
    await expectReuseDetected(
      inst,
      await refreshWith(inst, victim.stolen, { device: thiefDevice, userAgent: FIREFOX }),
      victim,
    );
  });

  it('the rotating browser itself still gets the same successor within the window (a lost response, a racing tab)', async () => {
    const clock = new TestClock(Date.now());
    const victim = await victimAfterRefresh(clock);
    clock.advance(9);
    const again = await refreshWith(t as TestInstance, victim.stolen, { device: victim.b.cookies.get(DEV) });
    expect(again.status).toBe(200);
    expect(parseSetCookies(again).get(RT)?.value).toBe(victim.successor);
  });

  it('ten racing tabs of one browser share one successor; the session stays alive and no reuse is recorded', async () => {
    t = await createTestInstance();
    const b = new Browser(t.request);
    const { response } = await signup(b);
    const { user } = (await response.json()) as { user: { id: string } };
    const old = b.cookies.get(RT) as string;
    const device = b.cookies.get(DEV);
    const inst = t;
    const results = await Promise.all(Array.from({ length: 10 }, () => refreshWith(inst, old, { device })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const successors = new Set(results.map((r) => parseSetCookies(r).get(RT)?.value));
    expect(successors.size).toBe(1);
    expect((await refreshWith(t, [...successors][0] as string, { device })).status).toBe(200);
    const { events } = await t.tw.context.store.listEvents(user.id, { limit: 20 });
    expect(events.map((e) => e.type)).not.toContain('refresh.reuse_detected');
  });
});

describe('refresh › expiry (frozen clock)', () => {
  it('idle timeout: a token unused for longer than refreshIdle is session_expired', async () => {
    const clock = new TestClock(Date.now());
    t = await createTestInstance({ refreshIdle: '1h', refreshAbsolute: '1d' }, { clock });
    const b = new Browser(t.request);
    await signup(b);
    clock.advance(3600 + 1);
    const res = await b.fetch('/auth/refresh', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(await code(res)).toBe('session_expired');
  });

  it('idle timeout moves forward on each rotation, the absolute lifetime does not', async () => {
    const clock = new TestClock(Date.now());
    t = await createTestInstance({ refreshIdle: '1h', refreshAbsolute: '3h' }, { clock });
    const b = new Browser(t.request);
    await signup(b);
    for (let i = 0; i < 5; i++) {
      clock.advance(50 * 60);
      const res = await b.fetch('/auth/refresh', { method: 'POST' });
      if (i < 3) expect(res.status, `rotation ${i}`).toBe(200);
      else {
        expect(res.status, `rotation ${i}`).toBe(401);
        expect(await code(res)).toBe('session_expired');
        break;
      }
    }
  });

  it('an access token is rejected once expired (no leeway) and the refresh gives a new one', async () => {
    const clock = new TestClock(Date.now());
    t = await createTestInstance({ accessTtl: '1m' }, { clock });
    const b = new Browser(t.request);
    await signup(b);
    clock.advance(59);
    expect((await b.fetch('/api/profile')).status).toBe(200);
    clock.advance(1);
    const expired = await b.fetch('/api/profile');
    expect(expired.status).toBe(401);
    expect(await code(expired)).toBe('invalid_token');
    expect((await b.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
    expect((await b.fetch('/api/profile')).status).toBe(200);
  });
});
