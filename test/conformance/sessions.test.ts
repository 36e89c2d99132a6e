import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewDeviceAlert } from '../../src/create-tokenward.js';
import {
  CHROME_MAC,
  deviceBrowser,
  eventually,
  expectProblem,
  FIREFOX_LINUX,
  json,
  loginAs,
  loginSession,
  SAFARI_IPHONE,
  signupAs,
} from '../support/account.js';
import { createTestInstance, parseSetCookies, TestClock, type TestInstance } from '../support/instance.js';

interface ListedSession {
  id: string;
  current: boolean;
  device: { browser: string | null; os: string | null; label: string };
  ip: string;
  createdAt: string;
  lastActiveAt: string;
  newDevice: boolean;
}
interface ListedEvent {
  type: string;
  at: string;
  ip: string | null;
  device: string | null;
  sessionId: string | null;
}

let t: TestInstance;
const clock = new TestClock();
const alerts: NewDeviceAlert[] = [];
let hookMode: 'record' | 'throw' | 'hang' = 'record';

beforeAll(async () => {
  t = await createTestInstance(
    { limitConcurrentSessions: 3 },
    {
      clock,
      listen: false,
      onNewDevice: async (alert) => {
        if (hookMode === 'throw') throw new Error('mail server down');
        if (hookMode === 'hang') await new Promise(() => {});
        alerts.push(alert);
      },
    },
  );
});
afterAll(async () => {
  await t.close();
});

async function listSessions(b: ReturnType<typeof deviceBrowser>): Promise<ListedSession[]> {
  const response = await b.fetch('/auth/sessions');
  expect(response.status).toBe(200);
  return (await json<{ sessions: ListedSession[] }>(response)).sessions;
}

async function listEvents(
  b: ReturnType<typeof deviceBrowser>,
  query = '',
): Promise<{ events: ListedEvent[]; nextCursor: string | null }> {
  const response = await b.fetch(`/auth/events${query}`);
  expect(response.status).toBe(200);
  return json(response);
}

describe('GET /auth/sessions', () => {
  it('lists the active sessions with device, ip, ISO times, current and newDevice', async () => {
    const laptop = deviceBrowser(t, { ip: '203.0.113.7', userAgent: CHROME_MAC });
    const { email, sessionId } = await signupAs(laptop);
    const phone = deviceBrowser(t, { ip: '198.51.100.20', userAgent: SAFARI_IPHONE });
    const phoneSession = await loginSession(phone, email);

    const sessions = await listSessions(laptop);
    expect(sessions.map((s) => s.id).sort()).toEqual([sessionId, phoneSession].sort());
    const mine = sessions.find((s) => s.id === sessionId);
    const other = sessions.find((s) => s.id === phoneSession);
    expect(mine).toEqual({
      id: sessionId,
      current: true,
      device: { browser: 'Chrome', os: 'macOS', label: 'Chrome on macOS' },
      ip: '203.0.113.7',
      createdAt: new Date(clock.now()).toISOString(),
      lastActiveAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      newDevice: false,
    });
    expect(other).toMatchObject({
      current: false,
      device: { browser: 'Safari', os: 'iOS', label: 'Safari on iOS' },
      ip: '198.51.100.20',
      newDevice: true,
    });
    // The phone sees the same list with itself as current.
    expect((await listSessions(phone)).find((s) => s.current)?.id).toBe(phoneSession);
    // Nothing secret in the list.
    expect(JSON.stringify(sessions)).not.toMatch(/twr_|eyJ|deviceId|tw_dev/);
  });

  it('401 unauthenticated without a session', async () => {
    const response = await deviceBrowser(t).fetch('/auth/sessions');
    await expectProblem(response, 401, 'unauthenticated');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('a device with an empty or unparseable User-Agent is "Unknown device"', async () => {
    const b = deviceBrowser(t, { userAgent: '' });
    await signupAs(b);
    const [session] = await listSessions(b);
    expect(session?.device).toEqual({ browser: null, os: null, label: 'Unknown device' });
  });
});

describe('DELETE /auth/sessions/:id', () => {
  it('204: revokes one of my sessions; its access token is rejected at once; an event is recorded', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const other = deviceBrowser(t, { ip: '198.51.100.30', userAgent: FIREFOX_LINUX });
    const otherId = await loginSession(other, email);
    expect((await other.fetch('/api/profile')).status).toBe(200);

    const response = await a.fetch(`/auth/sessions/${otherId}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    // Not the current session: my cookies stay.
    expect(response.headers.getSetCookie()).toEqual([]);
    await expectProblem(await other.fetch('/api/profile'), 401, 'invalid_token');
    expect((await listSessions(a)).map((s) => s.id)).not.toContain(otherId);
    // Its refresh token is dead too.
    expect((await other.fetch('/auth/refresh', { method: 'POST' })).status).toBe(401);
    const { events } = await listEvents(a);
    expect(events.find((e) => e.type === 'session.revoked' && e.sessionId === otherId)).toBeDefined();
    // Deleting it again: 404.
    await expectProblem(await a.fetch(`/auth/sessions/${otherId}`, { method: 'DELETE' }), 404, 'not_found');
  });

  it("404 not_found for another user's session, byte-identical to an unknown id; the victim's session is unaffected", async () => {
    const alice = deviceBrowser(t);
    const aliceSession = (await signupAs(alice)).sessionId;
    const mallory = deviceBrowser(t, { ip: '192.0.2.66' });
    await signupAs(mallory);

    const cross = await mallory.fetch(`/auth/sessions/${aliceSession}`, { method: 'DELETE' });
    const unknown = await mallory.fetch(`/auth/sessions/${crypto.randomUUID()}`, { method: 'DELETE' });
    const garbage = await mallory.fetch('/auth/sessions/not-a-uuid', { method: 'DELETE' });
    expect(cross.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(garbage.status).toBe(404);
    const [crossText, unknownText, garbageText] = await Promise.all([cross.text(), unknown.text(), garbage.text()]);
    expect(crossText).toBe(unknownText);
    expect(garbageText).toBe(unknownText);
    expect(JSON.parse(crossText).code).toBe('not_found');

    expect((await alice.fetch('/api/profile')).status).toBe(200);
    expect((await listSessions(alice)).map((s) => s.id)).toContain(aliceSession);
  });

  it('deleting the current session clears every session cookie (the device cookie stays)', async () => {
    const b = deviceBrowser(t);
    const { sessionId } = await signupAs(b);
    const response = await b.fetch(`/auth/sessions/${sessionId}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    const cleared = parseSetCookies(response);
    for (const name of ['__Host-tw_at', '__Secure-tw_rt', '__Host-tw_csrf', '__Host-tw_su']) {
      expect(cleared.get(name)?.attributes.get('max-age')).toBe('0');
    }
    expect(cleared.has('__Host-tw_dev')).toBe(false);
    expect(b.cookies.has('__Host-tw_dev')).toBe(true);
    await expectProblem(await b.fetch('/auth/me'), 401, 'unauthenticated');
  });

  it('403 csrf_rejected from a cross-site request, and nothing is revoked', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    const other = deviceBrowser(t, { ip: '198.51.100.31' });
    const otherId = await loginSession(other, email);
    const response = await b.fetch(`/auth/sessions/${otherId}`, {
      method: 'DELETE',
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });
    await expectProblem(response, 403, 'csrf_rejected');
    expect((await other.fetch('/api/profile')).status).toBe(200);
  });

  it('401 without a session', async () => {
    await expectProblem(
      await deviceBrowser(t).fetch(`/auth/sessions/${crypto.randomUUID()}`, { method: 'DELETE' }),
      401,
      'unauthenticated',
    );
  });

  it('405 with Allow for a wrong method', async () => {
    const response = await deviceBrowser(t).fetch(`/auth/sessions/${crypto.randomUUID()}`, { method: 'PUT' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('DELETE');
  });
});

describe('POST /auth/sessions/revoke-others', () => {
  it('200 {revoked: n}: every other session ends, the current one keeps working', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const b = deviceBrowser(t, { ip: '198.51.100.40' });
    const c = deviceBrowser(t, { ip: '198.51.100.41', userAgent: FIREFOX_LINUX });
    await loginSession(b, email);
    await loginSession(c, email);
    // Another user's sessions are not touched.
    const stranger = deviceBrowser(t, { ip: '192.0.2.9' });
    await signupAs(stranger);

    const response = await a.fetch('/auth/sessions/revoke-others', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ revoked: 2 });
    expect((await a.fetch('/api/profile')).status).toBe(200);
    await expectProblem(await b.fetch('/api/profile'), 401, 'invalid_token');
    await expectProblem(await c.fetch('/api/profile'), 401, 'invalid_token');
    expect((await stranger.fetch('/api/profile')).status).toBe(200);
    expect((await listSessions(a)).length).toBe(1);
    // Again: nothing left to revoke.
    expect(await json(await a.fetch('/auth/sessions/revoke-others', { method: 'POST' }))).toEqual({ revoked: 0 });
  });

  it('401 without a session; 403 cross-site', async () => {
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/sessions/revoke-others', { method: 'POST' }),
      401,
      'unauthenticated',
    );
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const b = deviceBrowser(t, { ip: '198.51.100.42' });
    await loginSession(b, email);
    await expectProblem(
      await a.fetch('/auth/sessions/revoke-others', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } }),
      403,
      'csrf_rejected',
    );
    expect((await b.fetch('/api/profile')).status).toBe(200);
  });
});

describe('concurrent-session limit', () => {
  it('the least recently active session is revoked when a new one exceeds the limit, and session.evicted is recorded', async () => {
    const first = deviceBrowser(t);
    const { email, sessionId: firstId } = await signupAs(first);
    clock.advance(1);
    const second = deviceBrowser(t);
    await loginSession(second, email);
    clock.advance(1);
    const third = deviceBrowser(t);
    await loginSession(third, email);
    clock.advance(1);
    const fourth = deviceBrowser(t);
    await loginSession(fourth, email);

    const sessions = await listSessions(fourth);
    expect(sessions.length).toBe(3);
    expect(sessions.map((s) => s.id)).not.toContain(firstId);
    await expectProblem(await first.fetch('/api/profile'), 401, 'invalid_token');
    const { events } = await listEvents(fourth);
    expect(events.find((e) => e.type === 'session.evicted' && e.sessionId === firstId)).toBeDefined();
  });
});

describe('last_active_at', () => {
  it('is written at most once per session per minute from protected routes', async () => {
    const b = deviceBrowser(t);
    const { sessionId } = await signupAs(b);
    const created = clock.now();
    const lastActive = async (): Promise<number> =>
      (await t.tw.context.store.getSession(sessionId))?.lastActiveAt ?? -1;

    clock.advance(5);
    expect((await b.fetch('/api/profile')).status).toBe(200);
    await eventually(async () => expect(await lastActive()).toBe(created + 5000));

    clock.advance(30);
    expect((await b.fetch('/api/profile')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(await lastActive()).toBe(created + 5000);

    clock.advance(31);
    expect((await b.fetch('/api/notes')).status).toBe(200);
    await eventually(async () => expect(await lastActive()).toBe(created + 66_000));
    const listed = (await listSessions(b)).find((s) => s.id === sessionId);
    expect(listed?.lastActiveAt).toBe(new Date(created + 66_000).toISOString());
  });
});

describe('new-device detection', () => {
  it('signup is not a new device; the same browser (device cookie) logging in again is known, even after logout and from another network', async () => {
    alerts.length = 0;
    const b = deviceBrowser(t, { ip: '203.0.113.50' });
    const { email } = await signupAs(b);
    expect(b.cookies.get('__Host-tw_dev')).toMatch(/^[A-Za-z0-9_-]{22,64}$/);
    expect((await b.fetch('/auth/logout', { method: 'POST' })).status).toBe(204);
    expect(b.cookies.has('__Host-tw_dev')).toBe(true);
    // Same device cookie, other network and browser version: still known.
    const again = deviceBrowser(t, { ip: '192.0.2.200', userAgent: FIREFOX_LINUX });
    again.cookies.set('__Host-tw_dev', b.cookies.get('__Host-tw_dev') ?? '');
    const id = await loginSession(again, email);
    expect((await listSessions(again)).find((s) => s.id === id)?.newDevice).toBe(false);
    const { events } = await listEvents(again);
    expect(events.some((e) => e.type === 'login.new_device')).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(alerts.filter((a) => a.user.email === email)).toEqual([]);
  });

  it('a login without the device cookie but with the same fingerprint (browser, OS, /24) is known', async () => {
    alerts.length = 0;
    const b = deviceBrowser(t, { ip: '203.0.113.60', userAgent: CHROME_MAC });
    const { email } = await signupAs(b);
    const sameNetwork = deviceBrowser(t, {
      ip: '203.0.113.99',
      userAgent: CHROME_MAC.replace('120.0.0.0', '121.0.0.0'),
    });
    const id = await loginSession(sameNetwork, email);
    expect((await listSessions(sameNetwork)).find((s) => s.id === id)?.newDevice).toBe(false);
  });

  it('IPv6 addresses compare by /48', async () => {
    const b = deviceBrowser(t, { ip: '2001:db8:1234:1::7', userAgent: FIREFOX_LINUX });
    const { email } = await signupAs(b);
    const sameSite = deviceBrowser(t, { ip: '2001:db8:1234:ffff::9', userAgent: FIREFOX_LINUX });
    const known = await loginSession(sameSite, email);
    const elsewhere = deviceBrowser(t, { ip: '2001:db8:9999::9', userAgent: FIREFOX_LINUX });
    const fresh = await loginSession(elsewhere, email);
    const sessions = await listSessions(b);
    expect(sessions.find((s) => s.id === known)?.newDevice).toBe(false);
    expect(sessions.find((s) => s.id === fresh)?.newDevice).toBe(true);
  });

  it('a new device marks the session, records login.new_device and calls onNewDevice with a not-me link', async () => {
    alerts.length = 0;
    const laptop = deviceBrowser(t, { ip: '203.0.113.70', userAgent: CHROME_MAC });
    const { email, userId } = await signupAs(laptop);
    const intruder = deviceBrowser(t, { ip: '198.51.100.77', userAgent: FIREFOX_LINUX });
    const id = await loginSession(intruder, email);
    expect((await listSessions(laptop)).find((s) => s.id === id)?.newDevice).toBe(true);
    const { events } = await listEvents(laptop);
    expect(events.find((e) => e.type === 'login.new_device')).toMatchObject({
      sessionId: id,
      ip: '198.51.100.77',
      device: 'Firefox on Linux',
    });
    // Only this account's alerts: an earlier test's alert may still be on its way (delivery is deferred).
    const mine = () => alerts.filter((a) => a.user.email === email);
    await eventually(() => expect(mine().length).toBe(1));
    const [alert] = mine();
    expect(alert).toMatchObject({
      user: { id: userId, email, name: null },
      session: { id, ip: '198.51.100.77', device: { browser: 'Firefox', os: 'Linux', label: 'Firefox on Linux' } },
    });
    expect(alert?.notMeUrl).toMatch(
      /^http:\/\/localhost:3000\/auth\/sessions\/not-me\?token=[0-9a-f-]{36}\.\d+\.[A-Za-z0-9_-]{43}$/,
    );
    // The intruder's next login from the same device is known (its device cookie was set).
    expect(intruder.cookies.get('__Host-tw_dev')).toMatch(/^[A-Za-z0-9_-]{22,64}$/);
    const again = await loginSession(intruder, email);
    expect((await listSessions(laptop)).find((s) => s.id === again)?.newDevice).toBe(false);
  });

  it('a failing or hanging hook never blocks or fails the login', async () => {
    const laptop = deviceBrowser(t, { ip: '203.0.113.80' });
    const { email } = await signupAs(laptop);
    try {
      hookMode = 'throw';
      expect((await loginAs(deviceBrowser(t, { ip: '198.51.100.81', userAgent: FIREFOX_LINUX }), email)).status).toBe(
        200,
      );
      hookMode = 'hang';
      expect((await loginAs(deviceBrowser(t, { ip: '198.51.100.82', userAgent: SAFARI_IPHONE }), email)).status).toBe(
        200,
      );
    } finally {
      await new Promise((r) => setTimeout(r, 20));
      hookMode = 'record';
    }
  });
});

describe('not-me link', () => {
  async function alertFor(email: string): Promise<NewDeviceAlert> {
    let found: NewDeviceAlert | undefined;
    await eventually(() => {
      found = alerts.find((a) => a.user.email === email);
      expect(found).toBeDefined();
    });
    return found as NewDeviceAlert;
  }

  it('GET shows a confirmation page and changes nothing; POST revokes that session once and records an event', async () => {
    const laptop = deviceBrowser(t, { ip: '203.0.113.90' });
    const { email } = await signupAs(laptop);
    const intruder = deviceBrowser(t, { ip: '198.51.100.90', userAgent: FIREFOX_LINUX });
    const intruderSession = await loginSession(intruder, email);
    const { notMeUrl } = await alertFor(email);
    const path = new URL(notMeUrl).pathname + new URL(notMeUrl).search;

    // A mail scanner prefetching the link: nothing happens.
    const page = await t.request(path, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('Firefox on Linux');
    expect((await intruder.fetch('/api/profile')).status).toBe(200);

    // The click on the page's button: its form posts back to the same URL (any browser, no cookies needed).
    const confirmed = await t.request(path, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await confirmed.text()).toContain('Signed out');
    await expectProblem(await intruder.fetch('/api/profile'), 401, 'invalid_token');
    expect((await laptop.fetch('/api/profile')).status).toBe(200);
    const { events } = await listEvents(laptop);
    expect(events.find((e) => e.type === 'session.reported_not_me')?.sessionId).toBe(intruderSession);

    // Single use.
    await expectProblem(await t.request(path, { method: 'POST' }), 400, 'invalid_link');
    const html = await t.request(path, { method: 'POST', headers: { accept: 'text/html' } });
    expect(html.status).toBe(400);
    expect((await t.request(path, { headers: { accept: 'text/html' } })).status).toBe(400);
  });

  it("POST {token} in the JSON body (an app's own page or client) revokes that session once: {revoked: 1}", async () => {
    const laptop = deviceBrowser(t, { ip: '203.0.113.92' });
    const { email } = await signupAs(laptop);
    const intruder = deviceBrowser(t, { ip: '198.51.100.92', userAgent: FIREFOX_LINUX });
    const intruderSession = await loginSession(intruder, email);
    const { notMeUrl } = await alertFor(email);
    const token = new URL(notMeUrl).searchParams.get('token') ?? '';
    const post = (body: unknown) =>
      t.request('/auth/sessions/not-me', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });

    const confirmed = await post({ token });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json(confirmed)).toEqual({ revoked: 1 });
    await expectProblem(await intruder.fetch('/api/profile'), 401, 'invalid_token');
    expect((await laptop.fetch('/api/profile')).status).toBe(200);
    expect((await listEvents(laptop)).events.find((e) => e.type === 'session.reported_not_me')?.sessionId).toBe(
      intruderSession,
    );

    // Used, wrong or malformed: 400 invalid_link; a body without a string token: 400 invalid_request.
    await expectProblem(await post({ token }), 400, 'invalid_link');
    await expectProblem(
      await post({ token: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }),
      400,
      'invalid_link',
    );
    await expectProblem(await post({ token: 'x'.repeat(300) }), 400, 'invalid_link');
    await expectProblem(await post({}), 400, 'invalid_request');
    await expectProblem(await post({ token: ['x'] }), 400, 'invalid_request');
    await expectProblem(
      await t.request('/auth/sessions/not-me', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"token":',
      }),
      400,
      'invalid_request',
    );
  });

  it('a tampered, malformed or missing token is 400 invalid_link', async () => {
    const laptop = deviceBrowser(t, { ip: '203.0.113.91' });
    const { email } = await signupAs(laptop);
    const intruder = deviceBrowser(t, { ip: '198.51.100.91', userAgent: SAFARI_IPHONE });
    await loginSession(intruder, email);
    const { notMeUrl } = await alertFor(email);
    const token = new URL(notMeUrl).searchParams.get('token') ?? '';
    const [sid, exp, mac] = token.split('.');
    const tampered = [
      `${crypto.randomUUID()}.${exp}.${mac}`,
      `${sid}.${Number(exp) + 1}.${mac}`,
      `${sid}.${exp}.${'A'.repeat(43)}`,
      'x',
      '',
    ];
    for (const bad of tampered) {
      await expectProblem(
        await t.request(`/auth/sessions/not-me?token=${encodeURIComponent(bad)}`, { method: 'POST' }),
        400,
        'invalid_link',
      );
    }
    await expectProblem(await t.request('/auth/sessions/not-me', { method: 'POST' }), 400, 'invalid_link');
    expect((await intruder.fetch('/api/profile')).status).toBe(200);
  });
});

describe('GET /auth/events', () => {
  it("returns the user's own events, newest first, with {type, at, ip, device, sessionId}", async () => {
    const b = deviceBrowser(t, { ip: '203.0.113.100' });
    const { email, sessionId } = await signupAs(b);
    clock.advance(1);
    expect((await loginAs(deviceBrowser(t, { ip: '203.0.113.100' }), email, 'wrong password!')).status).toBe(401);
    const other = deviceBrowser(t, { ip: '192.0.2.100' });
    await signupAs(other);

    const { events, nextCursor } = await listEvents(b);
    expect(nextCursor).toBeNull();
    // Signup records two events in the same millisecond: their relative order is not specified.
    expect(events[0]?.type).toBe('login.failed');
    expect(events.map((e) => e.type).sort()).toEqual(['login.failed', 'login.success', 'user.signup']);
    expect(events.find((e) => e.type === 'login.success')).toEqual({
      type: 'login.success',
      at: new Date(clock.now() - 1000).toISOString(),
      ip: '203.0.113.100',
      device: 'Chrome on macOS',
      sessionId,
    });
    for (const e of events) expect(Object.keys(e).sort()).toEqual(['at', 'device', 'ip', 'sessionId', 'type']);
  });

  it('paginates with ?limit and the before cursor', async () => {
    const b = deviceBrowser(t, { ip: '203.0.113.101' });
    const { email } = await signupAs(b);
    for (let i = 0; i < 2; i++) {
      clock.advance(1);
      await loginSession(deviceBrowser(t, { ip: '203.0.113.101' }), email);
    }
    const all = (await listEvents(b, '?limit=100')).events;
    expect(all.length).toBe(4);
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
    const page1 = await listEvents(b, '?limit=3');
    expect(page1.events).toEqual(all.slice(0, 3));
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = await listEvents(b, `?limit=3&before=${encodeURIComponent(page1.nextCursor ?? '')}`);
    expect(page2.events).toEqual(all.slice(3));
    expect(page2.nextCursor).toBeNull();
  });

  it('400 invalid_request for a bad cursor or limit; 401 without a session', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    for (const query of [
      '?before=%25%25%25',
      '?before=bm90LWEtY3Vyc29y',
      `?before=${'A'.repeat(500)}`,
      '?limit=0',
      '?limit=101',
      '?limit=abc',
      '?limit=-1',
      '?limit=1.5',
    ]) {
      await expectProblem(await b.fetch(`/auth/events${query}`), 400, 'invalid_request');
    }
    await expectProblem(await deviceBrowser(t).fetch('/auth/events'), 401, 'unauthenticated');
  });

  it('events older than the retention period are pruned', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    const store = t.tw.context.store;
    const user = await store.findUserByEmail(email);
    const cutoff = clock.now() + 1;
    clock.advance(10);
    await loginSession(b, email);
    await store.prune(cutoff);
    const types = (await listEvents(b)).events.map((e) => e.type);
    expect(types).toEqual(['login.success']);
    expect(user).not.toBeNull();
  });
});
