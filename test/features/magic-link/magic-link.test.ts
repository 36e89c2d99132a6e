// Magic-link sign-in (API.md `POST /auth/magic-link`, `POST /auth/magic-link/verify`): opt-in,
// through the login pipeline (a second factor is still asked), every wrong link 400 invalid_link.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceBrowser,
  expectProblem,
  freshEmail,
  json,
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

let t: TestInstance;
const clock = new TestClock(Date.now());
beforeAll(async () => {
  t = await createTestInstance({ mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } }, { clock, listen: false });
});
afterAll(async () => {
  await t.close();
});

async function magicToken(email: string): Promise<string> {
  const seen = new Set((await outboxFor(t, email)).map((m) => m.id));
  expect((await deviceBrowser(t).fetch('/auth/magic-link', { method: 'POST', json: { email } })).status).toBe(202);
  return outboxToken(
    await outboxMail(t, (m) => m.to === email && !seen.has(m.id) && /sign-in link/i.test(m.subject)),
    'magic-link',
  );
}

function signIn(b: Browser, token: string): Promise<Response> {
  return b.fetch('/auth/magic-link/verify', { method: 'POST', json: { token } });
}

describe('magic link', () => {
  it('is off unless enabled: both routes are 404', async () => {
    const off = await createTestInstance({}, { listen: false });
    try {
      const b = deviceBrowser(off);
      await expectProblem(
        await b.fetch('/auth/magic-link', { method: 'POST', json: { email: freshEmail() } }),
        404,
        'not_found',
      );
      await expectProblem(
        await b.fetch('/auth/magic-link/verify', { method: 'POST', json: { token: 'x' } }),
        404,
        'not_found',
      );
    } finally {
      await off.close();
    }
  });

  it('mail → link → signed in with session cookies; amr otp; the address is proven', async () => {
    const { email } = await signupAs(deviceBrowser(t));
    const b = deviceBrowser(t, { ip: '198.51.100.4' });
    const response = await signIn(b, await magicToken(email));
    expect(response.status).toBe(200);
    const body = await json<{ user: { email: string; emailVerified: boolean }; session: { id: string } }>(response);
    expect(body.user).toMatchObject({ email, emailVerified: true });
    const at = parseSetCookies(response).get('__Host-tw_at')?.value ?? '';
    expect(decodeJwt(at).amr).toEqual(['otp']);
    expect((await b.fetch('/auth/me')).status).toBe(200);
  });

  it('with TOTP on: {mfaRequired: true}, no session until the code', async () => {
    const owner = deviceBrowser(t);
    const { email } = await signupAs(owner);
    expect((await stepUp(owner)).status).toBe(200);
    const { otpauthUri } = await json<{ otpauthUri: string }>(
      await owner.fetch('/auth/totp/enroll', { method: 'POST' }),
    );
    const secret = secretOf(otpauthUri);
    expect(
      (await owner.fetch('/auth/totp/confirm', { method: 'POST', json: { code: totpCode(secret, clock.now()) } }))
        .status,
    ).toBe(200);
    clock.advance(31);
    const b = deviceBrowser(t);
    const response = await signIn(b, await magicToken(email));
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ mfaRequired: true });
    expect(parseSetCookies(response).has('__Host-tw_at')).toBe(false);
    expect(parseSetCookies(response).has('__Secure-tw_mfa')).toBe(true);
    const second = await b.fetch('/auth/login/totp', { method: 'POST', json: { code: totpCode(secret, clock.now()) } });
    expect(second.status).toBe(200);
    expect(decodeJwt(parseSetCookies(second).get('__Host-tw_at')?.value ?? '').amr).toEqual(['otp', 'mfa']);
  });

  describe('every wrong link is 400 invalid_link and signs nobody in', () => {
    async function expectRefused(token: string): Promise<void> {
      const b = deviceBrowser(t);
      const response = await signIn(b, token);
      await expectProblem(response, 400, 'invalid_link');
      expect(parseSetCookies(response).has('__Host-tw_at')).toBe(false);
      await expectProblem(await b.fetch('/auth/me'), 401, 'unauthenticated');
    }

    it('unknown and malformed', async () => {
      for (const token of ['C'.repeat(43), 'x', '', '%00%00']) await expectRefused(token);
    });

    it('expired (15 min)', async () => {
      const { email } = await signupAs(deviceBrowser(t));
      const token = await magicToken(email);
      clock.advance(15 * 60 + 1);
      await expectRefused(token);
    });

    it('used', async () => {
      const { email } = await signupAs(deviceBrowser(t));
      const token = await magicToken(email);
      expect((await signIn(deviceBrowser(t), token)).status).toBe(200);
      await expectRefused(token);
    });

    it('wrong purpose: a reset link is no sign-in link', async () => {
      const { email } = await signupAs(deviceBrowser(t));
      await deviceBrowser(t).fetch('/auth/password/forgot', { method: 'POST', json: { email } });
      await expectRefused(
        outboxToken(await outboxMail(t, (m) => m.to === email && /reset/i.test(m.subject)), 'reset-password'),
      );
    });

    it('after a password change', async () => {
      const b = deviceBrowser(t);
      const { email } = await signupAs(b);
      const token = await magicToken(email);
      const changed = await b.fetch('/auth/password', {
        method: 'POST',
        json: { currentPassword: PASSWORD, newPassword: 'fresh passphrase here 8' },
      });
      expect(changed.status).toBe(200);
      await expectRefused(token);
    });

    it('a disabled account: 403 account_disabled, no cookies', async () => {
      const { email, userId } = await signupAs(deviceBrowser(t));
      const token = await magicToken(email);
      await t.tw.context.kernel.setUserDisabled(userId, true, null);
      const response = await signIn(deviceBrowser(t), token);
      await expectProblem(response, 403, 'account_disabled');
      expect(parseSetCookies(response).has('__Host-tw_at')).toBe(false);
    });

    it('20 concurrent uses: exactly one session', async () => {
      const { email } = await signupAs(deviceBrowser(t));
      const token = await magicToken(email);
      const statuses = (await Promise.all(Array.from({ length: 20 }, () => signIn(deviceBrowser(t), token)))).map(
        (r) => r.status,
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 400)).toHaveLength(19);
    });
  });
});
