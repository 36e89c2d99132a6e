// TOKENWARD_REQUIRE_MFA: a login that proved no second factor gets a session that can only enrol
// one (403 mfa_enrollment_required elsewhere); a passkey counts as the second factor — on its own
// at sign-in, or as the second step of a password login; the last factor cannot be removed.
// On a real SQLite file and a real PostgreSQL, through the real handler (and one adapter).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpressApp } from '../../../examples/express.js';
import { resolveConfig } from '../../../src/config.js';
import { createVerifier, VerifyError } from '../../../src/verify/index.js';
import {
  deviceBrowser,
  expectProblem,
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
import { backends } from './backends.js';
import { passkeyLogin, passkeyStepUp, registerPasskey } from './helpers.js';
import { type RequestOptions, SoftAuthenticator } from './soft-authenticator.js';

const authenticator = () => new SoftAuthenticator({ origin: 'http://localhost:3000', rpId: 'localhost' });

function claims(b: Browser): Record<string, unknown> {
  const token = b.cookies.get('__Host-tw_at');
  if (!token) throw new Error('no access cookie');
  return decodeJwt(token) as Record<string, unknown>;
}

/** Turns TOTP on for the signed-in user of `b` (step-up with the password first); returns the secret. */
async function enableTotp(b: Browser, clock: TestClock): Promise<string> {
  expect((await stepUp(b)).status).toBe(200);
  const enrolled = await b.fetch('/auth/totp/enroll', { method: 'POST' });
  expect(enrolled.status).toBe(200);
  const secret = secretOf((await json<{ otpauthUri: string }>(enrolled)).otpauthUri);
  const confirmed = await b.fetch('/auth/totp/confirm', {
    method: 'POST',
    json: { code: totpCode(secret, clock.now()) },
  });
  expect(confirmed.status).toBe(200);
  clock.advance(30);
  return secret;
}

/** Password login that must stop at the second step; returns the answer. */
async function passwordStep(b: Browser, email: string): Promise<Response> {
  const response = await b.fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } });
  expect(response.status).toBe(200);
  expect(await json(response.clone())).toMatchObject({ mfaRequired: true });
  expect(parseSetCookies(response).has('__Host-tw_at')).toBe(false);
  return response;
}

async function secondStepOptions(b: Browser): Promise<RequestOptions> {
  const response = await b.fetch('/auth/login/passkey/options', { method: 'POST' });
  expect(response.status).toBe(200);
  return json<RequestOptions>(response);
}

describe('requireMfa configuration', () => {
  it('TOKENWARD_REQUIRE_MFA turns it on; default off; a bad value names the option and the variable', () => {
    expect(resolveConfig({}).requireMfa).toBe(false);
    expect(resolveConfig({}, { env: { TOKENWARD_REQUIRE_MFA: 'true' } }).requireMfa).toBe(true);
    expect(() => resolveConfig({}, { env: { TOKENWARD_REQUIRE_MFA: 'maybe' } })).toThrow(
      /requireMfa \(env TOKENWARD_REQUIRE_MFA\)/,
    );
  });
});

for (const backend of backends('requiremfa')) {
  describe(`requireMfa (${backend.name})`, () => {
    let t: TestInstance;
    const clock = new TestClock(Date.now());
    let available = true;

    beforeAll(async () => {
      const options = await backend.options();
      if (options === null) {
        available = false;
        return;
      }
      t = await createTestInstance({ ...options, requireMfa: true }, { clock, listen: false });
    });
    afterAll(async () => {
      await t?.close();
      await backend.close();
    });

    async function restricted(): Promise<{ b: Browser; email: string; userId: string }> {
      expect(available, 'TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)').toBe(true);
      const b = deviceBrowser(t);
      const signed = await signupAs(b);
      return { b, ...signed };
    }

    it('a signup is restricted: 403 mfa_enrollment_required everywhere but enrolment; /auth/me says why', async () => {
      const { b, userId } = await restricted();
      expect(claims(b)).toMatchObject({ sub: userId, amr: ['pwd'], tw_restriction: 'mfa_enrollment' });
      // Twice: the second request is decided from the verified-token cache (the fast path).
      for (let i = 0; i < 2; i++) await expectProblem(await b.fetch('/api/profile'), 403, 'mfa_enrollment_required');
      for (const [method, path] of [
        ['GET', '/api/notes'],
        ['POST', '/api/notes'],
        ['POST', '/api/transfer'],
        ['GET', '/auth/sessions'],
        ['GET', '/auth/events'],
        ['GET', '/auth/passkeys'],
        ['GET', '/auth/totp'],
        ['POST', '/auth/password'],
        ['POST', '/auth/sessions/revoke-others'],
      ] as const) {
        const response = await b.fetch(
          path,
          method === 'GET' ? {} : { method, json: { text: 'x', amount: 1, to: 'y' } },
        );
        await expectProblem(response, 403, 'mfa_enrollment_required');
      }
      const me = await json<{ user: { id: string }; session: { restriction?: string } }>(await b.fetch('/auth/me'));
      expect(me.user.id).toBe(userId);
      expect(me.session.restriction).toBe('mfa_enrollment');
      // Step-up (needed for enrolment) and enrolment itself are served.
      expect((await stepUp(b)).status).toBe(200);
      expect((await b.fetch('/auth/passkeys/register/options', { method: 'POST', json: {} })).status).toBe(200);
    });

    it('a refresh keeps the restriction; logout works', async () => {
      const { b } = await restricted();
      clock.advance(5);
      const refreshed = await b.fetch('/auth/refresh', { method: 'POST' });
      expect(refreshed.status).toBe(200);
      expect((await json<{ session: { restriction?: string } }>(refreshed)).session.restriction).toBe('mfa_enrollment');
      expect(claims(b).tw_restriction).toBe('mfa_enrollment');
      await expectProblem(await b.fetch('/api/profile'), 403, 'mfa_enrollment_required');
      expect((await b.fetch('/auth/logout', { method: 'POST' })).status).toBe(204);
    });

    it('the restricted session enrols a passkey; the passkey signs in to a full session', async () => {
      const { b, email } = await restricted();
      const auth = authenticator();
      await registerPasskey(b, auth);
      // The enrolling session stays what it was (it proved one factor); a sign-in with the passkey is full.
      await expectProblem(await b.fetch('/api/profile'), 403, 'mfa_enrollment_required');
      const full = deviceBrowser(t);
      const login = await passkeyLogin(full, auth, { email });
      expect(login.status).toBe(200);
      expect((await json<{ session: Record<string, unknown> }>(login)).session).not.toHaveProperty('restriction');
      expect(claims(full)).not.toHaveProperty('tw_restriction');
      expect((await full.fetch('/api/profile')).status).toBe(200);
    });

    it('the restricted session enrols TOTP; password + code is then a full session', async () => {
      const { b, email } = await restricted();
      const secret = await enableTotp(b, clock);
      const next = deviceBrowser(t);
      await passwordStep(next, email);
      const done = await next.fetch('/auth/login/totp', {
        method: 'POST',
        json: { code: totpCode(secret, clock.now()) },
      });
      expect(done.status).toBe(200);
      expect(claims(next)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'] });
      expect((await next.fetch('/api/profile')).status).toBe(200);
    });

    it('a password login of an account with a passkey asks for it; the second step gives amr [pwd, hwk, user, mfa]', async () => {
      const { b, email } = await restricted();
      const auth = authenticator();
      await registerPasskey(b, auth);
      const next = deviceBrowser(t);
      await passwordStep(next, email);
      const options = await secondStepOptions(next);
      expect(options.allowCredentials?.map((c) => c.id)).toEqual([auth.credentials[0]?.id]);
      const done = await next.fetch('/auth/login/passkey', { method: 'POST', json: { credential: auth.get(options) } });
      expect(done.status).toBe(200);
      expect(parseSetCookies(done).get('__Secure-tw_mfa')?.attributes.get('max-age')).toBe('0');
      expect(claims(next)).toMatchObject({ amr: ['pwd', 'hwk', 'user', 'mfa'] });
      expect(claims(next)).not.toHaveProperty('tw_restriction');
      expect((await next.fetch('/api/profile')).status).toBe(200);
    });

    it('the second step completes once: the same pending login sent 10 times at once starts one session', async () => {
      const { b, email } = await restricted();
      // No counter: every assertion verifies, so only the single completion of the pending login decides.
      const auth = new SoftAuthenticator({ origin: 'http://localhost:3000', rpId: 'localhost', counterStep: 0 });
      await registerPasskey(b, auth);
      const next = deviceBrowser(t);
      await passwordStep(next, email);
      const pendingCookie = next.cookieHeader();
      // Ten genuine assertions, each for its own challenge of the same pending login.
      const credentials = [];
      for (let i = 0; i < 10; i++) credentials.push(auth.get(await secondStepOptions(next)));
      const answers = await Promise.all(
        credentials.map((credential) =>
          next.fetch('/auth/login/passkey', {
            method: 'POST',
            json: { credential },
            headers: { cookie: pendingCookie },
          }),
        ),
      );
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 200)) await expectProblem(a, 401, 'mfa_pending_invalid');
    });

    it('the second step refuses another account’s passkey, another pending login’s challenge, and no pending login', async () => {
      const alice = await restricted();
      const aliceKey = authenticator();
      await registerPasskey(alice.b, aliceKey);
      const bob = await restricted();
      const bobKey = authenticator();
      await registerPasskey(bob.b, bobKey);

      const first = deviceBrowser(t);
      await passwordStep(first, alice.email);
      const options = await secondStepOptions(first);
      const forged = bobKey.get(options, { credentialId: bobKey.credentials[0]?.id as string });
      await expectProblem(
        await first.fetch('/auth/login/passkey', { method: 'POST', json: { credential: forged } }),
        401,
        'invalid_credentials',
      );
      // Another pending login of the same account cannot answer this one's challenge.
      const second = deviceBrowser(t);
      await passwordStep(second, alice.email);
      const aliceOptions = await secondStepOptions(first);
      await expectProblem(
        await second.fetch('/auth/login/passkey', { method: 'POST', json: { credential: aliceKey.get(aliceOptions) } }),
        401,
        'invalid_credentials',
      );
      await expectProblem(
        await deviceBrowser(t).fetch('/auth/login/passkey/options', { method: 'POST' }),
        401,
        'mfa_pending_invalid',
      );
      await expectProblem(
        await deviceBrowser(t).fetch('/auth/login/passkey', { method: 'POST', json: { credential: forged } }),
        401,
        'mfa_pending_invalid',
      );
      // Control: the genuine answer to the first login's own challenge completes it.
      const own = await first.fetch('/auth/login/passkey', {
        method: 'POST',
        json: { credential: aliceKey.get(await secondStepOptions(first)) },
      });
      expect(own.status).toBe(200);
    });

    it('the last second factor cannot be deleted (409 last_second_factor, grant kept); with two, one at a time', async () => {
      const { b, email } = await restricted();
      const auth = authenticator();
      const only = await registerPasskey(b, auth);
      const full = deviceBrowser(t);
      expect((await passkeyLogin(full, auth, { email })).status).toBe(200);
      expect((await passkeyStepUp(full, auth)).status).toBe(200);
      await expectProblem(await full.fetch(`/auth/passkeys/${only}`, { method: 'DELETE' }), 409, 'last_second_factor');
      // The refused delete kept the grant: it authorises adding a second passkey.
      expect((await full.fetch('/auth/passkeys/register/options', { method: 'POST', json: {} })).status).toBe(200);
      const second = await registerPasskey(full, authenticator());
      // Two deletes at once (the last two factors): exactly one wins, the other is refused.
      const stepped = [deviceBrowser(t), deviceBrowser(t)];
      for (const s of stepped) {
        expect((await passkeyLogin(s, auth, { email })).status).toBe(200);
        expect((await passkeyStepUp(s, auth)).status).toBe(200);
      }
      const [x, y] = await Promise.all([
        stepped[0]?.fetch(`/auth/passkeys/${only}`, { method: 'DELETE' }),
        stepped[1]?.fetch(`/auth/passkeys/${second}`, { method: 'DELETE' }),
      ]);
      expect([x?.status, y?.status].sort()).toEqual([204, 409]);
      expect((await json<{ passkeys: unknown[] }>(await full.fetch('/auth/passkeys'))).passkeys).toHaveLength(1);
    });

    it('TOTP cannot be turned off while it is the only factor; a passkey and TOTP removed at once leave one', async () => {
      const { b, email } = await restricted();
      const secret = await enableTotp(b, clock);
      const full = deviceBrowser(t);
      await passwordStep(full, email);
      expect(
        (await full.fetch('/auth/login/totp', { method: 'POST', json: { code: totpCode(secret, clock.now()) } }))
          .status,
      ).toBe(200);
      clock.advance(30);
      expect((await stepUp(full)).status).toBe(200);
      await expectProblem(
        await full.fetch('/auth/totp/disable', { method: 'POST', json: { code: totpCode(secret, clock.now()) } }),
        409,
        'last_second_factor',
      );
      clock.advance(30);
      const auth = authenticator();
      const passkeyId = await registerPasskey(full, auth);
      expect((await stepUp(full)).status).toBe(200);
      const other = deviceBrowser(t);
      expect((await passkeyLogin(other, auth, { email })).status).toBe(200);
      expect((await passkeyStepUp(other, auth)).status).toBe(200);
      const [totpOff, passkeyOff] = await Promise.all([
        full.fetch('/auth/totp/disable', { method: 'POST', json: { code: totpCode(secret, clock.now()) } }),
        other.fetch(`/auth/passkeys/${passkeyId}`, { method: 'DELETE' }),
      ]);
      expect([totpOff.status, passkeyOff.status].sort()).toEqual([204, 409]);
    });

    it("with requireMfa a federated provider's own 'mfa' does not make a full session", async () => {
      const { userId } = await restricted();
      const user = await t.tw.context.store.findUserById(userId);
      const outcome = await t.tw.context.kernel.finishLogin(user as NonNullable<typeof user>, ['fed', 'mfa'], {
        ip: '203.0.113.7',
        userAgent: 'test',
        deviceId: null,
      });
      if (outcome.kind !== 'session') throw new Error('expected a session');
      expect(outcome.issued.session.amr).toEqual(['fed']);
      expect(decodeJwt(outcome.issued.accessToken).tw_restriction).toBe('mfa_enrollment');
    });

    it('an adapter (express) refuses a restricted session with the same 403, also from its cached path', async () => {
      const { b } = await restricted();
      const server = createServer(createExpressApp(t.tw));
      const url = await new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      );
      try {
        for (let i = 0; i < 2; i++) {
          const response = await fetch(`${url}/api/profile`, { headers: { cookie: b.cookieHeader() } });
          expect(response.status).toBe(403);
          expect(((await response.json()) as { code: string }).code).toBe('mfa_enrollment_required');
        }
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });
}

describe('without requireMfa', () => {
  let t: TestInstance;
  const clock = new TestClock(Date.now());
  beforeAll(async () => {
    t = await createTestInstance({ limitLoginPerIp: '4/1m' }, { clock, listen: false });
  });
  afterAll(async () => t.close());

  it('a passkey does not make the password login ask for it (a way in of its own)', async () => {
    const b = deviceBrowser(t, { ip: '198.51.100.10' });
    const { email } = await signupAs(b);
    await registerPasskey(b, authenticator());
    const response = await deviceBrowser(t, { ip: '198.51.100.11' }).fetch('/auth/login', {
      method: 'POST',
      json: { email, password: PASSWORD },
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toHaveProperty('session');
  });

  it('with TOTP on, the second step accepts a passkey instead of a code', async () => {
    const b = deviceBrowser(t, { ip: '198.51.100.12' });
    const { email } = await signupAs(b);
    const auth = authenticator();
    await registerPasskey(b, auth);
    await enableTotp(b, clock);
    const next = deviceBrowser(t, { ip: '198.51.100.13' });
    await passwordStep(next, email);
    const done = await next.fetch('/auth/login/passkey', {
      method: 'POST',
      json: { credential: auth.get(await secondStepOptions(next)) },
    });
    expect(done.status).toBe(200);
    expect(claims(next).amr).toEqual(['pwd', 'hwk', 'user', 'mfa']);
  });

  it('passkey sign-in is limited per network: 429 too_many_attempts with Retry-After past the limit', async () => {
    const b = deviceBrowser(t, { ip: '198.51.100.77' });
    const answers = [];
    for (let i = 0; i < 6; i++)
      answers.push(await b.fetch('/auth/passkeys/login/options', { method: 'POST', json: {} }));
    expect(answers.slice(0, 4).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const limited = answers[4] as Response;
    await expectProblem(limited, 429, 'too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const wellFormed = {
      id: 'AAAAAAAAAAAAAAAAAAAAAA',
      rawId: 'AAAAAAAAAAAAAAAAAAAAAA',
      type: 'public-key',
      response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
    };
    await expectProblem(
      await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential: wellFormed } }),
      429,
      'too_many_attempts',
    );
  });
});

describe('tokenward/verify and restricted sessions', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ requireMfa: true });
  });
  afterAll(async () => t.close());

  it("other services refuse a restricted session's token (code 'restricted') unless acceptRestricted; a full one passes", async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    const restrictedToken = b.cookies.get('__Host-tw_at') as string;
    const options = {
      issuer: t.tw.config.publicOrigin,
      audience: t.tw.config.publicOrigin,
      jwksUrl: `${t.url}/.well-known/jwks.json`,
    };
    const strict = createVerifier(options);
    const lenient = createVerifier({ ...options, acceptRestricted: true });
    try {
      const refused = await strict.verify(restrictedToken).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(VerifyError);
      expect(refused).toMatchObject({ code: 'restricted', reason: 'restricted' });
      expect((await lenient.verify(restrictedToken)).tw_restriction).toBe('mfa_enrollment');
      const auth = authenticator();
      await registerPasskey(b, auth);
      const full = deviceBrowser(t);
      expect((await passkeyLogin(full, auth)).status).toBe(200);
      const claims = await strict.verify(full.cookies.get('__Host-tw_at') as string);
      expect(claims.amr).toEqual(['hwk', 'user', 'mfa']);
      expect(claims).not.toHaveProperty('tw_restriction');
    } finally {
      strict.close();
      lenient.close();
    }
  });
});
