import { afterEach, describe, expect, it } from 'vitest';
import { Browser, createTestInstance, parseSetCookies, signup, TestClock, type TestInstance } from '../support/instance.js';

let t: TestInstance | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const RT = '__Secure-tw_rt';
const refreshWith = (inst: TestInstance, token: string) =>
  inst.request('/auth/refresh', { method: 'POST', headers: { cookie: `${RT}=${token}`, 'sec-fetch-site': 'same-origin' } });
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

  it('within the grace window the same old token returns the same successor (idempotent)', async () => {
    t = await createTestInstance();
    const b = new Browser(t.request);
    await signup(b);
    const old = b.cookies.get(RT) as string;
    const r1 = await refreshWith(t, old);
    const r2 = await refreshWith(t, old);
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(200);
    expect(parseSetCookies(r2).get(RT)?.value).toBe(parseSetCookies(r1).get(RT)?.value);
  });

  it('20 concurrent refreshes of one token: exactly one successor, session alive', async () => {
    t = await createTestInstance();
    const b = new Browser(t.request);
    await signup(b);
    const old = b.cookies.get(RT) as string;
    const inst = t;
    const results = await Promise.all(Array.from({ length: 20 }, () => refreshWith(inst, old)));
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
    const me = (await (await t.request('/auth/me', { headers: { authorization: `Bearer ${access}` } })).json()) as { code: string };
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
