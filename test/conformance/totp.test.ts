import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceBrowser,
  expectProblem,
  json,
  loginAs,
  PASSWORD,
  secretOf,
  signupAs,
  stepUp,
  totpCode,
} from '../support/account.js';
import {
  type Browser,
  createTestInstance,
  parseSetCookies,
  TestClock,
  type TestInstance,
} from '../support/instance.js';

let t: TestInstance;
const clock = new TestClock();

beforeAll(async () => {
  t = await createTestInstance({ limitLoginPerAccount: 5 }, { clock, listen: false });
});
afterAll(async () => {
  await t.close();
});

/** Moves the clock to the start of the next 30-second TOTP step (so codes of different steps are distinct). */
function nextStep(): void {
  clock.ms = (Math.floor(clock.ms / 30_000) + 1) * 30_000;
}

async function enroll(b: Browser): Promise<{ secret: string; otpauthUri: string; qrSvg: string }> {
  expect((await stepUp(b)).status).toBe(200);
  const response = await b.fetch('/auth/totp/enroll', { method: 'POST' });
  expect(response.status).toBe(200);
  const body = await json<{ otpauthUri: string; qrSvg: string }>(response);
  return { ...body, secret: secretOf(body.otpauthUri) };
}

/** A user with TOTP on: returns the secret and recovery codes. */
async function userWithTotp(): Promise<{ b: Browser; email: string; secret: string; recoveryCodes: string[] }> {
  const b = deviceBrowser(t);
  const { email } = await signupAs(b);
  const { secret } = await enroll(b);
  const response = await b.fetch('/auth/totp/confirm', {
    method: 'POST',
    json: { code: totpCode(secret, clock.now()) },
  });
  expect(response.status).toBe(200);
  const { recoveryCodes } = await json<{ recoveryCodes: string[] }>(response);
  nextStep();
  return { b, email, secret, recoveryCodes };
}

/** Password step of a login for a TOTP user: returns the browser holding the pending-login cookie. */
async function passwordStep(email: string): Promise<Browser> {
  const b = deviceBrowser(t);
  const response = await loginAs(b, email);
  expect(response.status).toBe(200);
  expect(await json(response)).toEqual({ mfaRequired: true, browser: { status: 'supported', reason: null } });
  return b;
}

const secondStep = (b: Browser, body: unknown) => b.fetch('/auth/login/totp', { method: 'POST', json: body });

describe('TOTP enrollment', () => {
  it('enroll needs a fresh step-up: 401 step_up_required without one', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    const response = await b.fetch('/auth/totp/enroll', { method: 'POST' });
    await expectProblem(response, 401, 'step_up_required');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect(await json(await b.fetch('/auth/totp'))).toEqual({ enabled: false, pending: false, recoveryCodesLeft: 0 });
  });

  it('200 {otpauthUri, qrSvg}; the grant is consumed; not active until confirmed', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    const { otpauthUri, qrSvg, secret } = await enroll(b);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe(`/localhost:${email}`);
    expect(uri.searchParams.get('issuer')).toBe('localhost');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(qrSvg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
    expect(qrSvg).not.toMatch(/<script/i);
    // The grant was used.
    await expectProblem(await b.fetch('/auth/totp/enroll', { method: 'POST' }), 401, 'step_up_required');
    expect(await json(await b.fetch('/auth/totp'))).toEqual({ enabled: false, pending: true, recoveryCodesLeft: 0 });
    // Login still has one step.
    expect(await json(await loginAs(deviceBrowser(t), email))).toHaveProperty('session');
    // The secret is stored sealed, never in clear.
    const user = await t.tw.context.store.findUserByEmail(email);
    const credentials = await t.tw.context.store.getCredentials(user?.id ?? '');
    expect(credentials?.totpSecretSealed).toMatch(/^v1\./);
    expect(credentials?.totpSecretSealed).not.toContain(secret);
  });

  it('confirm: 400 invalid_code for a wrong code (nothing enabled), then 200 with ten recovery codes', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    const { secret } = await enroll(b);
    const wrong = String((Number(totpCode(secret, clock.now())) + 1) % 1_000_000).padStart(6, '0');
    for (const code of [wrong, '12345', 'abcdef', '']) {
      await expectProblem(await b.fetch('/auth/totp/confirm', { method: 'POST', json: { code } }), 400, 'invalid_code');
    }
    await expectProblem(await b.fetch('/auth/totp/confirm', { method: 'POST', json: {} }), 400, 'invalid_request');
    expect((await json(await b.fetch('/auth/totp'))).enabled).toBe(false);
    const response = await b.fetch('/auth/totp/confirm', {
      method: 'POST',
      json: { code: totpCode(secret, clock.now()) },
    });
    expect(response.status).toBe(200);
    const body = await json<{ enabled: boolean; recoveryCodes: string[] }>(response);
    expect(body.enabled).toBe(true);
    expect(body.recoveryCodes.length).toBe(10);
    expect(new Set(body.recoveryCodes).size).toBe(10);
    for (const code of body.recoveryCodes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    expect(await json(await b.fetch('/auth/totp'))).toEqual({ enabled: true, pending: false, recoveryCodesLeft: 10 });
    // Confirming again: nothing pending.
    nextStep();
    await expectProblem(
      await b.fetch('/auth/totp/confirm', { method: 'POST', json: { code: totpCode(secret, clock.now()) } }),
      400,
      'invalid_request',
    );
  });

  it('confirm without an enrollment is 400 invalid_request; 401 without a session', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    await expectProblem(
      await b.fetch('/auth/totp/confirm', { method: 'POST', json: { code: '123456' } }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/totp/confirm', { method: 'POST', json: { code: '123456' } }),
      401,
      'unauthenticated',
    );
  });

  it('enroll while TOTP is on: 409 totp_already_enabled, and the step-up grant is not spent', async () => {
    const { b, secret } = await userWithTotp();
    expect((await stepUp(b)).status).toBe(200);
    await expectProblem(await b.fetch('/auth/totp/enroll', { method: 'POST' }), 409, 'totp_already_enabled');
    // Same secret still works (it was not replaced).
    expect((await stepUp(b, { totp: totpCode(secret, clock.now()) })).status).toBe(200);
  });
});

describe('login with TOTP', () => {
  it('the password step answers {mfaRequired: true} with a sealed pending-login cookie and no session', async () => {
    const { email } = await userWithTotp();
    const b = deviceBrowser(t);
    const response = await loginAs(b, email);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ mfaRequired: true, browser: { status: 'supported', reason: null } });
    const cookies = parseSetCookies(response);
    expect([...cookies.keys()]).toEqual(['__Secure-tw_mfa']);
    const mfa = cookies.get('__Secure-tw_mfa');
    expect(mfa?.value).toMatch(/^v1\./);
    expect(mfa?.attributes.get('httponly')).toBe(true);
    expect(mfa?.attributes.get('secure')).toBe(true);
    expect(mfa?.attributes.get('samesite')).toBe('Strict');
    expect(mfa?.attributes.get('path')).toBe('/auth');
    expect(mfa?.attributes.get('max-age')).toBe('300');
    await expectProblem(await b.fetch('/auth/me'), 401, 'unauthenticated');
  });

  it('a wrong password is still 401 invalid_credentials (no pending login)', async () => {
    const { email } = await userWithTotp();
    const response = await loginAs(deviceBrowser(t), email, 'wrong password here');
    await expectProblem(response, 401, 'invalid_credentials');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('POST /auth/login/totp {code} completes the login: session cookies, amr includes otp, pending cookie cleared', async () => {
    const { email, secret } = await userWithTotp();
    const b = await passwordStep(email);
    const response = await secondStep(b, { code: totpCode(secret, clock.now()) });
    expect(response.status).toBe(200);
    const body = await json<{ user: { email: string }; session: { id: string } }>(response);
    expect(body.user.email).toBe(email);
    const cookies = parseSetCookies(response);
    expect(cookies.get('__Secure-tw_mfa')?.attributes.get('max-age')).toBe('0');
    expect(cookies.has('__Host-tw_at')).toBe(true);
    expect(cookies.has('__Secure-tw_rt')).toBe(true);
    expect(decodeJwt(cookies.get('__Host-tw_at')?.value ?? '').amr).toEqual(['pwd', 'otp', 'mfa']);
    expect((await b.fetch('/api/profile')).status).toBe(200);
  });

  it('replay: the same code is refused the second time within its window', async () => {
    const { email, secret } = await userWithTotp();
    const code = totpCode(secret, clock.now());
    expect((await secondStep(await passwordStep(email), { code })).status).toBe(200);
    await expectProblem(await secondStep(await passwordStep(email), { code }), 401, 'invalid_code');
    clock.advance(10);
    await expectProblem(await secondStep(await passwordStep(email), { code }), 401, 'invalid_code');
    nextStep();
    expect((await secondStep(await passwordStep(email), { code: totpCode(secret, clock.now()) })).status).toBe(200);
  });

  it('accepts one step of clock drift either way, not more', async () => {
    const { email, secret } = await userWithTotp();
    clock.advance(90);
    nextStep();
    await expectProblem(
      await secondStep(await passwordStep(email), { code: totpCode(secret, clock.now() - 60_000) }),
      401,
      'invalid_code',
    );
    expect((await secondStep(await passwordStep(email), { code: totpCode(secret, clock.now() - 30_000) })).status).toBe(
      200,
    );
    nextStep();
    expect((await secondStep(await passwordStep(email), { code: totpCode(secret, clock.now() + 30_000) })).status).toBe(
      200,
    );
  });

  it('401 invalid_code for wrong codes (API.md: the login is not proven); after five wrong codes the pending login is dropped', async () => {
    const { email, secret } = await userWithTotp();
    const b = await passwordStep(email);
    for (let i = 0; i < 5; i++)
      await expectProblem(
        await secondStep(b, { code: '000000' === totpCode(secret, clock.now()) ? '111111' : '000000' }),
        401,
        'invalid_code',
      );
    const response = await secondStep(b, { code: totpCode(secret, clock.now()) });
    // Five wrong codes also started the per-user backoff, which answers first.
    expect([401, 429]).toContain(response.status);
    await expectProblem(await b.fetch('/auth/me'), 401, 'unauthenticated');
  });

  it('the per-user backoff survives a new password step: 429 with Retry-After', async () => {
    const { email, secret } = await userWithTotp();
    for (let i = 0; i < 5; i++) {
      const b = await passwordStep(email);
      await expectProblem(await secondStep(b, { code: totpCode(secret, clock.now() + 600_000) }), 401, 'invalid_code');
    }
    const b = await passwordStep(email);
    const limited = await secondStep(b, { code: totpCode(secret, clock.now()) });
    await expectProblem(limited, 429, 'too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    clock.advance(2);
    nextStep();
    expect((await secondStep(await passwordStep(email), { code: totpCode(secret, clock.now()) })).status).toBe(200);
  });

  it('recovery codes: any case and dashes accepted, each works once', async () => {
    const { b: owner, email, recoveryCodes } = await userWithTotp();
    const [first = '', second = ''] = recoveryCodes;
    const response = await secondStep(await passwordStep(email), {
      recoveryCode: first.toUpperCase().replace(/-/g, ' '),
    });
    expect(response.status).toBe(200);
    expect(decodeJwt(parseSetCookies(response).get('__Host-tw_at')?.value ?? '').amr).toEqual(['pwd', 'mfa']);
    await expectProblem(await secondStep(await passwordStep(email), { recoveryCode: first }), 401, 'invalid_code');
    expect((await secondStep(await passwordStep(email), { recoveryCode: second })).status).toBe(200);
    expect((await json(await owner.fetch('/auth/totp'))).recoveryCodesLeft).toBe(8);
    const types = (
      await json<{ events: Array<{ type: string }> }>(await owner.fetch('/auth/events?limit=100'))
    ).events.map((e) => e.type);
    expect(types.filter((x) => x === 'totp.recovery_code_used').length).toBe(2);
  });

  it('two racing uses of one recovery code: exactly one login', async () => {
    const { email, recoveryCodes } = await userWithTotp();
    const code = recoveryCodes[3] ?? '';
    const [a, b] = await Promise.all([passwordStep(email), passwordStep(email)]);
    const responses = await Promise.all([secondStep(a, { recoveryCode: code }), secondStep(b, { recoveryCode: code })]);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('no, forged or expired pending login: 401 mfa_pending_invalid; a completed one cannot be replayed', async () => {
    const { email, secret } = await userWithTotp();
    await expectProblem(
      await secondStep(deviceBrowser(t), { code: totpCode(secret, clock.now()) }),
      401,
      'mfa_pending_invalid',
    );
    const forged = deviceBrowser(t);
    forged.cookies.set('__Secure-tw_mfa', 'v1.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBB');
    await expectProblem(await secondStep(forged, { code: totpCode(secret, clock.now()) }), 401, 'mfa_pending_invalid');

    const slow = await passwordStep(email);
    clock.advance(301);
    await expectProblem(await secondStep(slow, { code: totpCode(secret, clock.now()) }), 401, 'mfa_pending_invalid');

    nextStep();
    const b = await passwordStep(email);
    const pending = b.cookies.get('__Secure-tw_mfa') ?? '';
    expect((await secondStep(b, { code: totpCode(secret, clock.now()) })).status).toBe(200);
    nextStep();
    const replay = deviceBrowser(t);
    replay.cookies.set('__Secure-tw_mfa', pending);
    await expectProblem(await secondStep(replay, { code: totpCode(secret, clock.now()) }), 401, 'mfa_pending_invalid');
  });

  it('400 invalid_request unless exactly one of code or recoveryCode; 403 cross-site', async () => {
    const { email } = await userWithTotp();
    const b = await passwordStep(email);
    await expectProblem(await secondStep(b, {}), 400, 'invalid_request');
    await expectProblem(
      await secondStep(b, { code: '123456', recoveryCode: 'abcd-efgh-jkmn' }),
      400,
      'invalid_request',
    );
    await expectProblem(await secondStep(b, { code: 123456 }), 400, 'invalid_request');
    await expectProblem(
      await b.fetch('/auth/login/totp', {
        method: 'POST',
        json: { code: '123456' },
        headers: { 'sec-fetch-site': 'cross-site' },
      }),
      403,
      'csrf_rejected',
    );
  });
});

describe('step-up with TOTP', () => {
  it('{totp} issues a grant; the same code cannot be replayed; a wrong one is 401 invalid_credentials', async () => {
    const { b, secret } = await userWithTotp();
    const code = totpCode(secret, clock.now());
    expect((await stepUp(b, { totp: code })).status).toBe(200);
    await expectProblem(await stepUp(b, { totp: code }), 401, 'invalid_credentials');
    await expectProblem(await stepUp(b, { totp: '99999' }), 401, 'invalid_credentials');
    expect((await b.fetch('/api/transfer', { method: 'POST', json: { amount: 1, to: 'x' } })).status).toBe(200);
  });
});

describe('recovery codes and disabling', () => {
  it('POST /auth/totp/recovery-codes (step-up + a current code) replaces the codes', async () => {
    const { b, email, secret, recoveryCodes } = await userWithTotp();
    await expectProblem(await b.fetch('/auth/totp/recovery-codes', { method: 'POST' }), 401, 'step_up_required');
    expect((await stepUp(b)).status).toBe(200);
    const response = await b.fetch('/auth/totp/recovery-codes', {
      method: 'POST',
      json: { code: totpCode(secret, clock.now()) },
    });
    expect(response.status).toBe(200);
    const fresh = (await json<{ recoveryCodes: string[] }>(response)).recoveryCodes;
    expect(fresh.length).toBe(10);
    await expectProblem(
      await secondStep(await passwordStep(email), { recoveryCode: recoveryCodes[0] }),
      401,
      'invalid_code',
    );
    expect((await secondStep(await passwordStep(email), { recoveryCode: fresh[0] })).status).toBe(200);
  });

  it('POST /auth/totp/disable needs step-up and a current code; afterwards login has one step again', async () => {
    const { b, email, secret } = await userWithTotp();
    await expectProblem(await b.fetch('/auth/totp/disable', { method: 'POST' }), 401, 'step_up_required');
    expect(await json(await loginAs(deviceBrowser(t), email))).toEqual({
      mfaRequired: true,
      browser: { status: 'supported', reason: null },
    });
    expect((await stepUp(b)).status).toBe(200);
    // A wrong code costs nothing but a counted attempt: the grant stays for the next try.
    await expectProblem(
      await b.fetch('/auth/totp/disable', {
        method: 'POST',
        json: { code: '000000' === totpCode(secret, clock.now()) ? '111111' : '000000' },
      }),
      400,
      'invalid_code',
    );
    const response = await b.fetch('/auth/totp/disable', {
      method: 'POST',
      json: { code: totpCode(secret, clock.now()) },
    });
    expect(response.status).toBe(204);
    expect(await json(await b.fetch('/auth/totp'))).toEqual({ enabled: false, pending: false, recoveryCodesLeft: 0 });
    const login = await loginAs(deviceBrowser(t), email, PASSWORD);
    expect(await json(login)).toHaveProperty('session');
    const types = (await json<{ events: Array<{ type: string }> }>(await b.fetch('/auth/events?limit=100'))).events.map(
      (e) => e.type,
    );
    expect(types).toEqual(
      expect.arrayContaining(['totp.enrollment_started', 'totp.enabled', 'totp.disabled', 'step_up.success']),
    );
  });
});
