import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBrowser, expectProblem, json, loginSession, PASSWORD, signupAs, stepUp } from '../support/account.js';
import { createTestInstance, parseSetCookies, TestClock, type TestInstance } from '../support/instance.js';

let t: TestInstance;
const clock = new TestClock();

const CHALLENGE = /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=(\d+)$/;

beforeAll(async () => {
  t = await createTestInstance({ limitLoginPerAccount: 3 }, { clock, listen: false });
  // An application route with a tighter max_age than the grant lifetime.
  t.tw.app.post('/api/close-account', t.tw.requireSession(), t.tw.requireStepUp({ maxAge: 60 }), (c) =>
    c.json({ closed: true }),
  );
  // requireStepUp alone also authenticates (and applies the CSRF rule).
  t.tw.app.post('/api/export', t.tw.requireStepUp(), (c) => c.json({ userId: c.get('tokenward').userId }));
});
afterAll(async () => {
  await t.close();
});

const transfer = (b: ReturnType<typeof deviceBrowser>, init: RequestInit = {}) =>
  b.fetch('/api/transfer', { method: 'POST', json: { amount: 10, to: 'bob' }, ...init });

describe('POST /auth/step-up', () => {
  it('200 {stepUpUntil} and the __Host-tw_su cookie (HttpOnly, Secure, SameSite=Strict, Path=/, Max-Age=300)', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    clock.advance(1);
    const response = await stepUp(b);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ stepUpUntil: new Date(clock.now() + 300_000).toISOString() });
    const su = parseSetCookies(response).get('__Host-tw_su');
    expect(su?.value).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(su?.attributes.get('httponly')).toBe(true);
    expect(su?.attributes.get('secure')).toBe(true);
    expect(su?.attributes.get('samesite')).toBe('Strict');
    expect(su?.attributes.get('path')).toBe('/');
    expect(su?.attributes.get('max-age')).toBe('300');
    expect(su?.attributes.has('domain')).toBe(false);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const events = await json<{ events: Array<{ type: string }> }>(await b.fetch('/auth/events'));
    expect(events.events[0]?.type).toBe('step_up.success');
  });

  it('401 invalid_credentials for a wrong password, no cookie, step_up.failed recorded', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    clock.advance(1);
    const response = await stepUp(b, { password: 'not my password' });
    await expectProblem(response, 401, 'invalid_credentials');
    expect(response.headers.getSetCookie()).toEqual([]);
    const events = await json<{ events: Array<{ type: string }> }>(await b.fetch('/auth/events'));
    expect(events.events[0]?.type).toBe('step_up.failed');
  });

  it('429 too_many_attempts with Retry-After after the login backoff threshold (shared with login)', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    for (let i = 0; i < 3; i++)
      await expectProblem(await stepUp(b, { password: `wrong ${i} password` }), 401, 'invalid_credentials');
    const limited = await stepUp(b, { password: PASSWORD });
    await expectProblem(limited, 429, 'too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The same account backoff guards login: no extra guesses through the other door.
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } }),
      429,
      'too_many_attempts',
    );
    clock.advance(2);
    expect((await stepUp(b)).status).toBe(200);
  });

  it('400 invalid_request unless exactly one of password or totp is sent; 415 for other content types', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    await expectProblem(await stepUp(b, {}), 400, 'invalid_request');
    await expectProblem(await stepUp(b, { password: PASSWORD, totp: '123456' }), 400, 'invalid_request');
    await expectProblem(
      await b.fetch('/auth/step-up', { method: 'POST', json: { password: 12345678 } }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await b.fetch('/auth/step-up', {
        method: 'POST',
        body: 'password=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported_media_type',
    );
  });

  it('{totp} without TOTP enrolled is 401 invalid_credentials', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    await expectProblem(await stepUp(b, { totp: '123456' }), 401, 'invalid_credentials');
  });

  it('401 without a session; 403 cross-site', async () => {
    await expectProblem(await stepUp(deviceBrowser(t)), 401, 'unauthenticated');
    const b = deviceBrowser(t);
    await signupAs(b);
    const response = await b.fetch('/auth/step-up', {
      method: 'POST',
      json: { password: PASSWORD },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    await expectProblem(response, 403, 'csrf_rejected');
    expect(parseSetCookies(response).has('__Host-tw_su')).toBe(false);
  });
});

describe('requireStepUp (demo POST /api/transfer)', () => {
  it('401 step_up_required with the RFC 9470 challenge when there is no grant', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    const response = await transfer(b);
    await expectProblem(response, 401, 'step_up_required');
    expect(response.headers.get('www-authenticate')).toMatch(CHALLENGE);
    expect(CHALLENGE.exec(response.headers.get('www-authenticate') ?? '')?.[1]).toBe('300');
  });

  it('a grant is used once: the first guarded request passes (and the cookie is cleared), the second gets the same 401', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    expect((await stepUp(b)).status).toBe(200);
    const grant = b.cookies.get('__Host-tw_su') ?? '';
    const ok = await transfer(b);
    expect(ok.status).toBe(200);
    expect(await json(ok)).toEqual({ ok: true });
    expect(parseSetCookies(ok).get('__Host-tw_su')?.attributes.get('max-age')).toBe('0');
    // Replaying the consumed grant (as an attacker who copied it would).
    b.cookies.set('__Host-tw_su', grant);
    const again = await transfer(b);
    const first = await expectProblem(again, 401, 'step_up_required');
    const noGrant = await transfer(deviceBrowser(t));
    expect(noGrant.status).toBe(401);
    expect(first).toEqual(
      await json(
        await (async () => {
          b.cookies.delete('__Host-tw_su');
          return transfer(b);
        })(),
      ),
    );
  });

  it('two racing requests with one grant: exactly one succeeds', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    for (let round = 0; round < 5; round++) {
      expect((await stepUp(b)).status).toBe(200);
      const responses = await Promise.all([transfer(b), transfer(b), transfer(b)]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    }
  });

  it('the grant is bound to its session: another session of the same user cannot use it', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const other = deviceBrowser(t, { ip: '198.51.100.5' });
    await loginSession(other, email);
    expect((await stepUp(a)).status).toBe(200);
    other.cookies.set('__Host-tw_su', a.cookies.get('__Host-tw_su') ?? '');
    await expectProblem(await transfer(other), 401, 'step_up_required');
    // It was not consumed by the failed attempt.
    expect((await transfer(a)).status).toBe(200);
  });

  it('expires after 5 minutes', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    expect((await stepUp(b)).status).toBe(200);
    clock.advance(301);
    // The browser would have dropped the cookie; a client that kept it still fails.
    await expectProblem(await transfer(b), 401, 'step_up_required');
  });

  it('a route maxAge tighter than the grant: an older step-up does not count, and the challenge says max_age=60', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    expect((await stepUp(b)).status).toBe(200);
    clock.advance(61);
    const stale = await b.fetch('/api/close-account', { method: 'POST' });
    await expectProblem(stale, 401, 'step_up_required');
    expect(CHALLENGE.exec(stale.headers.get('www-authenticate') ?? '')?.[1]).toBe('60');
    // Still good for a route with the default maxAge.
    expect((await transfer(b)).status).toBe(200);
    expect((await stepUp(b)).status).toBe(200);
    expect((await b.fetch('/api/close-account', { method: 'POST' })).status).toBe(200);
  });

  it('a forged or garbage grant cookie is 401 step_up_required, never 500', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    for (const value of [
      'x',
      'v1.AAAA.BBBB',
      `v1.${'A'.repeat(16)}.${'B'.repeat(64)}`,
      'v1..',
      '%00',
      'a'.repeat(4000),
    ]) {
      b.cookies.set('__Host-tw_su', value);
      await expectProblem(await transfer(b), 401, 'step_up_required');
    }
  });

  it('session first: 401 unauthenticated without a session, 403 csrf_rejected cross-site (the grant is kept)', async () => {
    await expectProblem(await transfer(deviceBrowser(t)), 401, 'unauthenticated');
    await expectProblem(await deviceBrowser(t).fetch('/api/export', { method: 'POST' }), 401, 'unauthenticated');
    const b = deviceBrowser(t);
    const { userId } = await signupAs(b);
    expect((await stepUp(b)).status).toBe(200);
    await expectProblem(await transfer(b, { headers: { 'sec-fetch-site': 'cross-site' } }), 403, 'csrf_rejected');
    const exported = await b.fetch('/api/export', { method: 'POST' });
    expect(exported.status).toBe(200);
    expect(await json(exported)).toEqual({ userId });
  });

  it('a revoked session cannot use its grant', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    expect((await stepUp(b)).status).toBe(200);
    const grant = b.cookies.get('__Host-tw_su') ?? '';
    const at = b.cookies.get('__Host-tw_at') ?? '';
    expect((await b.fetch('/auth/logout', { method: 'POST' })).status).toBe(204);
    b.cookies.set('__Host-tw_su', grant);
    b.cookies.set('__Host-tw_at', at);
    await expectProblem(await transfer(b), 401, 'invalid_token');
  });
});
