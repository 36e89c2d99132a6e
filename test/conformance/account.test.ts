import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBrowser, expectProblem, json, loginAs, loginSession, PASSWORD, signupAs } from '../support/account.js';
import { type Browser, createTestInstance, TestClock, type TestInstance } from '../support/instance.js';

let t: TestInstance;
const clock = new TestClock();
const NEW_PASSWORD = 'a brand new passphrase 42';

beforeAll(async () => {
  t = await createTestInstance({ limitLoginPerAccount: 3 }, { clock, listen: false });
});
afterAll(async () => {
  await t.close();
});

const changePassword = (b: Browser, body: unknown, init: RequestInit = {}) =>
  b.fetch('/auth/password', { method: 'POST', json: body, ...init });

async function storedHash(email: string): Promise<string | undefined> {
  const user = await t.tw.context.store.findUserByEmail(email);
  return (await t.tw.context.store.getCredentials(user?.id ?? ''))?.passwordHash;
}

describe('POST /auth/password', () => {
  it('200 {revoked: n}: re-hashes, signs out every other session, keeps this one, records password.changed', async () => {
    const a = deviceBrowser(t);
    const { email, sessionId } = await signupAs(a);
    const other = deviceBrowser(t, { ip: '198.51.100.3' });
    await loginSession(other, email);
    const before = await storedHash(email);
    clock.advance(1);

    const response = await changePassword(a, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ revoked: 1 });
    const after = await storedHash(email);
    expect(after).toMatch(/^\$argon2id\$/);
    expect(after).not.toBe(before);

    expect((await a.fetch('/api/profile')).status).toBe(200);
    await expectProblem(await other.fetch('/api/profile'), 401, 'invalid_token');
    expect((await other.fetch('/auth/refresh', { method: 'POST' })).status).toBe(401);
    const sessions = await json<{ sessions: Array<{ id: string }> }>(await a.fetch('/auth/sessions'));
    expect(sessions.sessions.map((s) => s.id)).toEqual([sessionId]);

    await expectProblem(await loginAs(deviceBrowser(t), email, PASSWORD), 401, 'invalid_credentials');
    expect((await loginAs(deviceBrowser(t), email, NEW_PASSWORD)).status).toBe(200);
    const events = await json<{ events: Array<{ type: string; sessionId: string | null }> }>(
      await a.fetch('/auth/events?limit=100'),
    );
    expect(events.events.find((e) => e.type === 'password.changed')?.sessionId).toBe(sessionId);
  });

  it('401 invalid_credentials for a wrong current password, and nothing changes', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const other = deviceBrowser(t, { ip: '198.51.100.4' });
    await loginSession(other, email);
    const before = await storedHash(email);
    await expectProblem(
      await changePassword(a, { currentPassword: 'not the password', newPassword: NEW_PASSWORD }),
      401,
      'invalid_credentials',
    );
    expect(await storedHash(email)).toBe(before);
    expect((await other.fetch('/api/profile')).status).toBe(200);
    expect((await loginAs(deviceBrowser(t), email, PASSWORD)).status).toBe(200);
  });

  it('429 too_many_attempts after the login backoff threshold', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    for (let i = 0; i < 3; i++)
      await expectProblem(
        await changePassword(a, { currentPassword: `wrong ${i} password`, newPassword: NEW_PASSWORD }),
        401,
        'invalid_credentials',
      );
    const limited = await changePassword(a, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    await expectProblem(limited, 429, 'too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    clock.advance(2);
    expect((await changePassword(a, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(200);
    expect((await loginAs(deviceBrowser(t), email, NEW_PASSWORD)).status).toBe(200);
  });

  it.each([
    ['too short', 'short1'],
    ['common', 'password123'],
    ['too long', 'x'.repeat(257)],
    ['NUL', 'abc\u0000defghijk'],
  ])('422 weak_password (%s): nothing changes, no password attempt is spent', async (_name, newPassword) => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const other = deviceBrowser(t, { ip: '198.51.100.5' });
    await loginSession(other, email);
    const before = await storedHash(email);
    await expectProblem(await changePassword(a, { currentPassword: PASSWORD, newPassword }), 422, 'weak_password');
    expect(await storedHash(email)).toBe(before);
    expect((await other.fetch('/api/profile')).status).toBe(200);
  });

  it('the new password may not be the email', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    await expectProblem(
      await changePassword(a, { currentPassword: PASSWORD, newPassword: email }),
      422,
      'weak_password',
    );
  });

  it('400 invalid_request for missing or non-string fields; 415 for other content types', async () => {
    const a = deviceBrowser(t);
    await signupAs(a);
    await expectProblem(await changePassword(a, { newPassword: NEW_PASSWORD }), 400, 'invalid_request');
    await expectProblem(await changePassword(a, { currentPassword: PASSWORD }), 400, 'invalid_request');
    await expectProblem(
      await changePassword(a, { currentPassword: PASSWORD, newPassword: ['x'] }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await a.fetch('/auth/password', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await a.fetch('/auth/password', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
  });

  it('401 without a session; 403 cross-site (nothing changes)', async () => {
    await expectProblem(
      await changePassword(deviceBrowser(t), { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }),
      401,
      'unauthenticated',
    );
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    const before = await storedHash(email);
    await expectProblem(
      await changePassword(
        a,
        { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
        { headers: { 'sec-fetch-site': 'cross-site' } },
      ),
      403,
      'csrf_rejected',
    );
    expect(await storedHash(email)).toBe(before);
  });

  it('405 with Allow for GET', async () => {
    const response = await deviceBrowser(t).fetch('/auth/password');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});
