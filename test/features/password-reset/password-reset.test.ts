// Password reset (API.md `POST /auth/password/forgot`, `POST /auth/password/reset`) on the
// embedded store, mails read from the in-process outbox: the whole flow, every way a link can be
// wrong (each answers 400 invalid_link and changes nothing), a used link raced, the second factor
// still asked, the enumeration rule (same bytes, comparable time) and the mail limits.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceBrowser,
  expectProblem,
  freshEmail,
  json,
  loginAs,
  PASSWORD,
  secretOf,
  signupAs,
  stepUp,
  totpCode,
} from '../../support/account.js';
import {
  type Browser,
  createTestInstance,
  parseSetCookies,
  TestClock,
  type TestInstance,
} from '../../support/instance.js';
import { OPEN_MAIL_LIMITS, outboxFor, outboxMail, outboxToken } from '../../support/mail.js';

const NEW_PASSWORD = 'a brand new passphrase 42';
let t: TestInstance;
const clock = new TestClock(Date.now());

beforeAll(async () => {
  t = await createTestInstance({ mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } }, { clock, listen: false });
});
afterAll(async () => {
  await t.close();
});

async function forgot(b: Browser, email: string): Promise<Response> {
  return b.fetch('/auth/password/forgot', { method: 'POST', json: { email } });
}

/** Asks for a reset link and returns its token (read from the new mail). */
async function resetToken(email: string): Promise<string> {
  const seen = new Set((await outboxFor(t, email)).map((m) => m.id));
  expect((await forgot(deviceBrowser(t), email)).status).toBe(202);
  const mail = await outboxMail(t, (m) => m.to === email && !seen.has(m.id) && /reset/i.test(m.subject));
  return outboxToken(mail, 'reset-password');
}

function reset(b: Browser, token: string, password = NEW_PASSWORD): Promise<Response> {
  return b.fetch('/auth/password/reset', { method: 'POST', json: { token, password } });
}

async function eventTypes(b: Browser): Promise<string[]> {
  const body = await json<{ events: Array<{ type: string }> }>(await b.fetch('/auth/events'));
  return body.events.map((e) => e.type);
}

/** A user signed in on two browsers; returns both and the address. */
async function userOnTwoBrowsers(): Promise<{ email: string; a: Browser; b: Browser; userId: string }> {
  const a = deviceBrowser(t);
  const { email, userId } = await signupAs(a);
  const b = deviceBrowser(t, { ip: '198.51.100.20' });
  expect((await loginAs(b, email)).status).toBe(200);
  return { email, a, b, userId };
}

/** Nothing changed for the account: the old password works, both sessions live, no reset recorded. */
async function expectUnchanged(account: { email: string; a: Browser; b: Browser }): Promise<void> {
  // A refresh proves the session is alive however far the clock moved (access tokens live 10 min).
  expect((await account.a.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
  expect((await account.b.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
  expect(await eventTypes(account.a)).not.toContain('password.reset');
  expect((await loginAs(deviceBrowser(t), account.email)).status).toBe(200);
}

describe('password reset › the flow', () => {
  it('forgot → mail → reset: signed in on this device, every other session ended, the new password works, the old does not', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    const device = deviceBrowser(t, { ip: '192.0.2.50' });
    const response = await reset(device, token);
    expect(response.status).toBe(200);
    const body = await json<{ user: { email: string; emailVerified: boolean }; session: { id: string } }>(response);
    // The link reached the address: it is proven now.
    expect(body.user).toMatchObject({ email: account.email, emailVerified: true });
    const cookies = parseSetCookies(response);
    expect(cookies.get('__Host-tw_at')?.attributes.get('httponly')).toBe(true);
    expect(cookies.has('__Secure-tw_rt')).toBe(true);
    // RFC 8176 `otp`: a single-use secret delivered out of band; never `pwd`, never `mfa`.
    expect(decodeJwt(cookies.get('__Host-tw_at')?.value ?? '').amr).toEqual(['otp']);
    expect((await device.fetch('/auth/me')).status).toBe(200);
    await expectProblem(await account.a.fetch('/auth/me'), 401, 'invalid_token');
    await expectProblem(await account.b.fetch('/auth/refresh', { method: 'POST' }), 401, 'session_expired');
    await expectProblem(await loginAs(deviceBrowser(t), account.email), 401, 'invalid_credentials');
    expect((await loginAs(deviceBrowser(t), account.email, NEW_PASSWORD)).status).toBe(200);
    expect(await eventTypes(device)).toEqual(
      expect.arrayContaining(['password.reset', 'email.verified', 'session.logout_all']),
    );
  });

  it('a weak new password answers 422 and keeps the link: a stronger one then works', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    for (const weak of ['short', 'password123', account.email])
      await expectProblem(await reset(deviceBrowser(t), token, weak), 422, 'weak_password');
    await expectUnchanged(account);
    expect((await reset(deviceBrowser(t), token)).status).toBe(200);
  });

  it('an account with TOTP still needs its second factor after a reset', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    expect((await stepUp(b)).status).toBe(200);
    const { otpauthUri } = await json<{ otpauthUri: string }>(await b.fetch('/auth/totp/enroll', { method: 'POST' }));
    const secret = secretOf(otpauthUri);
    expect(
      (await b.fetch('/auth/totp/confirm', { method: 'POST', json: { code: totpCode(secret, clock.now()) } })).status,
    ).toBe(200);
    clock.advance(31);
    const device = deviceBrowser(t);
    const response = await reset(device, await resetToken(email));
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ mfaRequired: true });
    expect(parseSetCookies(response).has('__Host-tw_at')).toBe(false);
    await expectProblem(await device.fetch('/auth/me'), 401, 'unauthenticated');
    // The password is set (the reset happened); the session waits for the code.
    expect((await loginAs(deviceBrowser(t), email, NEW_PASSWORD)).status).toBe(200);
    const second = await device.fetch('/auth/login/totp', {
      method: 'POST',
      json: { code: totpCode(secret, clock.now()) },
    });
    expect(second.status).toBe(200);
    expect(decodeJwt(parseSetCookies(second).get('__Host-tw_at')?.value ?? '').amr).toEqual(['otp', 'mfa']);
  });
});

describe('password reset › every wrong link is 400 invalid_link and changes nothing', () => {
  it('unknown and malformed tokens', async () => {
    const account = await userOnTwoBrowsers();
    const unknown = 'A'.repeat(43);
    for (const token of [unknown, 'short', `${'x'.repeat(43)}=`, '', '../../etc/passwd', 'A'.repeat(512)])
      await expectProblem(await reset(deviceBrowser(t), token), 400, 'invalid_link');
    await expectUnchanged(account);
  });

  it('expired: 15 minutes after it was mailed', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    clock.advance(15 * 60 + 1);
    await expectProblem(await reset(deviceBrowser(t), token), 400, 'invalid_link');
    await expectUnchanged(account);
  });

  it('used: the second use of a link', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    expect((await reset(deviceBrowser(t), token)).status).toBe(200);
    await expectProblem(await reset(deviceBrowser(t), token, 'yet another passphrase 7'), 400, 'invalid_link');
    expect((await loginAs(deviceBrowser(t), account.email, NEW_PASSWORD)).status).toBe(200);
  });

  it('wrong purpose: a verification or sign-in link is no reset link, and a reset link works nowhere else', async () => {
    const account = await userOnTwoBrowsers();
    expect((await account.a.fetch('/auth/email/verify/request', { method: 'POST' })).status).toBe(202);
    const verifyMail = (await outboxFor(t, account.email)).find((m) => /confirm your email/i.test(m.subject));
    const verifyToken = outboxToken(verifyMail ?? { text: '' }, 'verify-email');
    await expectProblem(await reset(deviceBrowser(t), verifyToken), 400, 'invalid_link');
    expect(
      (await deviceBrowser(t).fetch('/auth/magic-link', { method: 'POST', json: { email: account.email } })).status,
    ).toBe(202);
    const magicMail = (await outboxFor(t, account.email)).find((m) => /sign-in link/i.test(m.subject));
    await expectProblem(
      await reset(deviceBrowser(t), outboxToken(magicMail ?? { text: '' }, 'magic-link')),
      400,
      'invalid_link',
    );
    const token = await resetToken(account.email);
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/email/verify', { method: 'POST', json: { token } }),
      400,
      'invalid_link',
    );
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/magic-link/verify', { method: 'POST', json: { token } }),
      400,
      'invalid_link',
    );
    await expectUnchanged(account);
    // None of those attempts used it up: the reset link still works for a reset.
    expect((await reset(deviceBrowser(t), token)).status).toBe(200);
  });

  it("another user's link resets that user only: the signed-in user is untouched", async () => {
    const victim = await userOnTwoBrowsers();
    const other = await userOnTwoBrowsers();
    const token = await resetToken(other.email);
    expect((await reset(victim.a, token)).status).toBe(200);
    expect((await loginAs(deviceBrowser(t), victim.email)).status).toBe(200);
    expect((await victim.b.fetch('/auth/me')).status).toBe(200);
    await expectProblem(await loginAs(deviceBrowser(t), other.email), 401, 'invalid_credentials');
  });

  it('after a password change, an earlier link is dead', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    const changed = await account.a.fetch('/auth/password', {
      method: 'POST',
      json: { currentPassword: PASSWORD, newPassword: 'changed the usual way 9' },
    });
    expect(changed.status).toBe(200);
    await expectProblem(await reset(deviceBrowser(t), token), 400, 'invalid_link');
    expect((await loginAs(deviceBrowser(t), account.email, 'changed the usual way 9')).status).toBe(200);
  });

  it('after another reset, an earlier link is dead (the first reset changed the password)', async () => {
    const account = await userOnTwoBrowsers();
    const first = await resetToken(account.email);
    const second = await resetToken(account.email);
    expect((await reset(deviceBrowser(t), second)).status).toBe(200);
    await expectProblem(await reset(deviceBrowser(t), first, 'not the one that counts 3'), 400, 'invalid_link');
    expect((await loginAs(deviceBrowser(t), account.email, NEW_PASSWORD)).status).toBe(200);
  });

  it('after an email change, a link mailed to the old address is dead', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    const next = freshEmail();
    expect((await stepUp(account.a)).status).toBe(200);
    expect((await account.a.fetch('/auth/email/change', { method: 'POST', json: { email: next } })).status).toBe(202);
    const confirm = (await outboxFor(t, next))[0];
    const changed = await account.a.fetch('/auth/email/verify', {
      method: 'POST',
      json: { token: outboxToken(confirm ?? { text: '' }, 'confirm-email-change') },
    });
    expect(changed.status).toBe(200);
    await expectProblem(await reset(deviceBrowser(t), token), 400, 'invalid_link');
    expect((await loginAs(deviceBrowser(t), next)).status).toBe(200);
  });

  it('a disabled account: no mail is sent, and a link from before answers 403 account_disabled', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    expect(await t.tw.context.kernel.setUserDisabled(account.userId, true, null)).toBe(2);
    const before = (await outboxFor(t, account.email)).length;
    expect((await forgot(deviceBrowser(t), account.email)).status).toBe(202);
    expect(await outboxFor(t, account.email)).toHaveLength(before);
    await expectProblem(await reset(deviceBrowser(t), token), 403, 'account_disabled');
    await t.tw.context.kernel.setUserDisabled(account.userId, false, null);
  });
});

describe('password reset › concurrency', () => {
  it('20 concurrent uses of one link: exactly one succeeds, the rest are invalid_link', async () => {
    const account = await userOnTwoBrowsers();
    const token = await resetToken(account.email);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        reset(deviceBrowser(t, { ip: `192.0.2.${i + 1}` }), token, `${NEW_PASSWORD} ${i}`),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    const winner = responses.findIndex((r) => r.status === 200);
    const b = deviceBrowser(t);
    expect((await loginAs(b, account.email, `${NEW_PASSWORD} ${winner}`)).status).toBe(200);
    expect((await eventTypes(b)).filter((type) => type === 'password.reset')).toHaveLength(1);
  });
});
