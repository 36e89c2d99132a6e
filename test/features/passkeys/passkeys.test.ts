// Passkeys over HTTP, through the real handler, on a real SQLite file and on a real PostgreSQL:
// registration, sign-in with and without an email, step-up, management — and one negative test
// per way a ceremony can be broken, each with its control (the untampered request succeeds).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBrowser, expectProblem, freshEmail, json, PASSWORD, signupAs, stepUp } from '../../support/account.js';
import {
  type Browser,
  createTestInstance,
  parseSetCookies,
  TestClock,
  type TestInstance,
} from '../../support/instance.js';
import { backends } from './backends.js';
import {
  loginOptions,
  passkeyLogin,
  passkeyStepUp,
  registerPasskey,
  registrationOptions,
  stepUpOptions,
} from './helpers.js';
import { SoftAuthenticator, type Tamper } from './soft-authenticator.js';

const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';

const authenticator = (options: Partial<ConstructorParameters<typeof SoftAuthenticator>[0]> = {}) =>
  new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, ...options });

/** The claims of the browser's current access token. */
function accessClaims(b: Browser): Record<string, unknown> {
  const token = b.cookies.get('__Host-tw_at');
  if (!token) throw new Error('no access cookie');
  return decodeJwt(token) as Record<string, unknown>;
}

async function eventTypes(b: Browser): Promise<string[]> {
  return (await json<{ events: Array<{ type: string }> }>(await b.fetch('/auth/events'))).events.map((e) => e.type);
}

async function passkeyCount(b: Browser): Promise<number> {
  return (await json<{ passkeys: unknown[] }>(await b.fetch('/auth/passkeys'))).passkeys.length;
}

for (const backend of backends('passkeys')) {
  describe(`passkeys (${backend.name})`, () => {
    let t: TestInstance;
    const clock = new TestClock(Date.now());
    let available = true;

    beforeAll(async () => {
      const options = await backend.options();
      if (options === null) {
        available = false;
        return;
      }
      t = await createTestInstance(options, { clock, listen: false });
    });
    afterAll(async () => {
      await t?.close();
      await backend.close();
    });

    /** A signed-up user with one registered passkey. */
    async function account(
      options: { authenticator?: SoftAuthenticator } = {},
    ): Promise<{ b: Browser; email: string; userId: string; auth: SoftAuthenticator; passkeyId: string }> {
      expect(available, 'TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)').toBe(true);
      const b = deviceBrowser(t);
      const { email, userId } = await signupAs(b);
      const auth = options.authenticator ?? authenticator();
      const passkeyId = await registerPasskey(b, auth, { name: 'Laptop' });
      clock.advance(1);
      return { b, email, userId, auth, passkeyId };
    }

    describe('registration', () => {
      it('needs a fresh step-up; options ask for user verification and exclude the passkeys the account has', async () => {
        const { b, userId } = await account();
        await expectProblem(
          await b.fetch('/auth/passkeys/register/options', { method: 'POST', json: {} }),
          401,
          'step_up_required',
        );
        const options = (await registrationOptions(b)) as unknown as {
          rp: { id: string };
          user: { id: string };
          authenticatorSelection: Record<string, unknown>;
          excludeCredentials: unknown[];
          attestation: string;
          challenge: string;
        };
        expect(options.rp.id).toBe(RP_ID);
        expect(options.user.id).toBe(Buffer.from(userId).toString('base64url'));
        expect(options.authenticatorSelection).toMatchObject({
          userVerification: 'required',
          residentKey: 'preferred',
        });
        expect(options.attestation).toBe('none');
        expect(options.excludeCredentials).toHaveLength(1);
        expect(Buffer.from(options.challenge, 'base64url')).toHaveLength(32);
        // The options spent the grant: asking again needs a new step-up.
        await expectProblem(
          await b.fetch('/auth/passkeys/register/options', { method: 'POST', json: {} }),
          401,
          'step_up_required',
        );
      });

      it('201 {passkey: {id, name, createdAt, lastUsedAt}}, listed, and passkey.added recorded', async () => {
        const b = deviceBrowser(t);
        await signupAs(b);
        const options = await registrationOptions(b, 'Work laptop');
        const response = await b.fetch('/auth/passkeys/register', {
          method: 'POST',
          json: { credential: authenticator().create(options) },
        });
        expect(response.status).toBe(201);
        const { passkey } = await json<{ passkey: Record<string, unknown> }>(response);
        expect(passkey).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          name: 'Work laptop',
          createdAt: new Date(clock.now()).toISOString(),
          lastUsedAt: null,
          backedUp: false,
        });
        const { passkeys } = await json<{ passkeys: unknown[] }>(await b.fetch('/auth/passkeys'));
        expect(passkeys).toEqual([passkey]);
        expect(await eventTypes(b)).toContain('passkey.added');
      });

      const refusedRegistration = async (tamper: Tamper, authOptions = {}) => {
        const b = deviceBrowser(t);
        await signupAs(b);
        const options = await registrationOptions(b);
        const refused = await b.fetch('/auth/passkeys/register', {
          method: 'POST',
          json: { credential: authenticator(authOptions).create(options, tamper) },
        });
        await expectProblem(refused, 400, 'invalid_passkey');
        expect(await passkeyCount(b)).toBe(0);
        return b;
      };

      it('refuses a response made for another origin (400 invalid_passkey, nothing stored)', async () => {
        await refusedRegistration({ origin: 'https://evil.example' });
      });

      it('refuses a response whose authenticator data is for another RP ID', async () => {
        await refusedRegistration({ rpId: 'evil.example' });
      });

      it('refuses an authenticator that did not verify the user (UV flag missing)', async () => {
        await refusedRegistration({}, { userVerification: false });
      });

      it('refuses an assertion-type client data (webauthn.get) in a registration', async () => {
        await refusedRegistration({ type: 'webauthn.get' });
      });

      it('refuses a reused challenge: the second response to one set of options stores nothing', async () => {
        const b = deviceBrowser(t);
        await signupAs(b);
        const options = await registrationOptions(b);
        const register = (auth: SoftAuthenticator) =>
          b.fetch('/auth/passkeys/register', { method: 'POST', json: { credential: auth.create(options) } });
        expect((await register(authenticator())).status).toBe(201);
        await expectProblem(await register(authenticator()), 400, 'invalid_passkey');
        expect(await passkeyCount(b)).toBe(1);
      });

      it('refuses an expired challenge (5 minutes)', async () => {
        const b = deviceBrowser(t);
        await signupAs(b);
        const options = await registrationOptions(b);
        clock.advance(301);
        const refused = await b.fetch('/auth/passkeys/register', {
          method: 'POST',
          json: { credential: authenticator().create(options) },
        });
        await expectProblem(refused, 400, 'invalid_passkey');
        expect(await passkeyCount(b)).toBe(0);
      });

      it('refuses the challenge of another session (even of the same user), and leaves it to its own session', async () => {
        const b = deviceBrowser(t);
        const { email } = await signupAs(b);
        const other = deviceBrowser(t);
        expect((await other.fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } })).status).toBe(
          200,
        );
        const options = await registrationOptions(b);
        const credential = authenticator().create(options);
        await expectProblem(
          await other.fetch('/auth/passkeys/register', { method: 'POST', json: { credential } }),
          400,
          'invalid_passkey',
        );
        expect(await passkeyCount(other)).toBe(0);
        // Control: the session that asked still can.
        expect((await b.fetch('/auth/passkeys/register', { method: 'POST', json: { credential } })).status).toBe(201);
      });

      it('a registration response sent 12 times at once stores exactly one passkey', async () => {
        const b = deviceBrowser(t);
        await signupAs(b);
        const credential = authenticator().create(await registrationOptions(b));
        const answers = await Promise.all(
          Array.from({ length: 12 }, () =>
            b.fetch('/auth/passkeys/register', { method: 'POST', json: { credential } }),
          ),
        );
        expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(11).fill(400)]);
        expect(await passkeyCount(b)).toBe(1);
      });

      it('one credential cannot be registered to a second account (400 invalid_passkey); it stays the first one’s', async () => {
        const { auth } = await account();
        const b = deviceBrowser(t);
        await signupAs(b);
        const options = await registrationOptions(b);
        const credential = auth.create(options, { credentialId: auth.credentials[0]?.id as string });
        await expectProblem(
          await b.fetch('/auth/passkeys/register', { method: 'POST', json: { credential } }),
          400,
          'invalid_passkey',
        );
        expect(await passkeyCount(b)).toBe(0);
        expect((await passkeyLogin(deviceBrowser(t), auth)).status).toBe(200);
      });
    });

    describe('sign-in', () => {
      it('without an email (discoverable): 200 {user, session}, session cookies, amr [hwk, user, mfa], passkey.used', async () => {
        const { userId, auth, passkeyId } = await account();
        const b = deviceBrowser(t);
        const options = await loginOptions(b);
        expect(options.allowCredentials).toEqual([]);
        expect(options.userVerification).toBe('required');
        expect(b.cookies.get('__Secure-tw_wa')).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const response = await b.fetch('/auth/passkeys/login', {
          method: 'POST',
          json: { credential: auth.get(options) },
        });
        expect(response.status).toBe(200);
        const body = await json<{ user: { id: string }; session: { id: string } }>(response);
        expect(body.user.id).toBe(userId);
        const cookies = parseSetCookies(response);
        expect(cookies.get('__Host-tw_at')?.attributes.get('httponly')).toBe(true);
        expect(cookies.get('__Secure-tw_rt')?.value).toMatch(/^twr_/);
        expect(cookies.get('__Secure-tw_wa')?.attributes.get('max-age')).toBe('0');
        expect(accessClaims(b)).toMatchObject({ sub: userId, sid: body.session.id, amr: ['hwk', 'user', 'mfa'] });
        expect((await b.fetch('/api/profile')).status).toBe(200);
        expect(await eventTypes(b)).toEqual(expect.arrayContaining(['passkey.used', 'login.success']));
        const listed = await json<{ passkeys: Array<{ id: string; lastUsedAt: string | null }> }>(
          await b.fetch('/auth/passkeys'),
        );
        expect(listed.passkeys.find((p) => p.id === passkeyId)?.lastUsedAt).toBe(new Date(clock.now()).toISOString());
      });

      it('a synced (backup-eligible) passkey signs in with amr [swk, user, mfa]', async () => {
        const { auth } = await account({ authenticator: authenticator({ backupEligible: true }) });
        const b = deviceBrowser(t);
        expect((await passkeyLogin(b, auth)).status).toBe(200);
        expect(accessClaims(b).amr).toEqual(['swk', 'user', 'mfa']);
      });

      it('with an email: allowCredentials are the account’s passkeys; other addresses get one stable decoy', async () => {
        const { email, auth } = await account();
        const b = deviceBrowser(t);
        const options = await loginOptions(b, email.toUpperCase());
        expect(options.allowCredentials?.map((c) => c.id)).toEqual([auth.credentials[0]?.id]);
        expect(
          (await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential: auth.get(options) } })).status,
        ).toBe(200);

        const nobody = freshEmail();
        const first = await loginOptions(deviceBrowser(t), nobody);
        const again = await loginOptions(deviceBrowser(t), nobody);
        expect(first.allowCredentials).toHaveLength(1);
        expect(first.allowCredentials).toEqual(again.allowCredentials);
        const withoutPasskey = deviceBrowser(t);
        const { email: plain } = await signupAs(withoutPasskey);
        const decoy = await loginOptions(deviceBrowser(t), plain);
        expect(decoy.allowCredentials).toHaveLength(1);
        expect(decoy.allowCredentials?.[0]?.id).not.toBe(first.allowCredentials?.[0]?.id);
        expect(Object.keys(decoy).sort()).toEqual(Object.keys(options).sort());
      });

      /** Options in `b`, an assertion tampered with, refused; then the control succeeds in the same browser. */
      const refusedLogin = async (tamper: Tamper, authOptions = {}) => {
        const { auth, email } = await account({ authenticator: authenticator(authOptions) });
        const b = deviceBrowser(t);
        const options = await loginOptions(b);
        const refused = await b.fetch('/auth/passkeys/login', {
          method: 'POST',
          json: { credential: auth.get(options, tamper) },
        });
        await expectProblem(refused, 401, 'invalid_credentials');
        expect(parseSetCookies(refused).has('__Host-tw_at')).toBe(false);
        return { auth, email };
      };

      it('refuses an assertion made for another origin', async () => {
        const { auth } = await refusedLogin({ origin: 'https://evil.example' });
        expect((await passkeyLogin(deviceBrowser(t), auth)).status).toBe(200);
      });

      it('refuses an assertion whose RP ID hash is another site’s', async () => {
        const { auth } = await refusedLogin({ rpId: 'evil.example' });
        expect((await passkeyLogin(deviceBrowser(t), auth)).status).toBe(200);
      });

      it('refuses an assertion without user verification (UV flag missing)', async () => {
        const { auth } = await refusedLogin({ userVerified: false });
        expect((await passkeyLogin(deviceBrowser(t), auth)).status).toBe(200);
      });

      it('refuses an assertion without user presence', async () => {
        await refusedLogin({ userPresent: false });
      });

      it('refuses a signature by another key', async () => {
        await refusedLogin({ wrongKey: true });
      });

      it('refuses an assertion whose user handle is another account’s', async () => {
        const other = await account();
        await refusedLogin({ userHandle: Buffer.from(other.userId).toString('base64url') });
      });

      it('refuses a credential id nobody registered', async () => {
        await refusedLogin({ credentialId: Buffer.from('no such credential').toString('base64url') });
      });

      it('refuses a replayed assertion (the challenge is single use)', async () => {
        const { auth } = await account();
        const b = deviceBrowser(t);
        const credential = auth.get(await loginOptions(b));
        expect((await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential } })).status).toBe(200);
        // The binding cookie was cleared by the success; put it back as a thief replaying everything would.
        const replay = deviceBrowser(t);
        await expectProblem(
          await replay.fetch('/auth/passkeys/login', { method: 'POST', json: { credential } }),
          401,
          'invalid_credentials',
        );
      });

      it('the same assertion sent 20 times at once starts exactly one session', async () => {
        const { auth } = await account();
        const b = deviceBrowser(t);
        const credential = auth.get(await loginOptions(b));
        const cookie = b.cookieHeader();
        const answers = await Promise.all(
          Array.from({ length: 20 }, () =>
            b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential }, headers: { cookie } }),
          ),
        );
        expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
        expect(answers.filter((a) => a.status === 401)).toHaveLength(19);
      });

      it('refuses a second assertion for a challenge already used', async () => {
        const { auth } = await account();
        const b = deviceBrowser(t);
        const options = await loginOptions(b);
        const cookie = b.cookieHeader();
        expect(
          (await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential: auth.get(options) } })).status,
        ).toBe(200);
        await expectProblem(
          await b.fetch('/auth/passkeys/login', {
            method: 'POST',
            json: { credential: auth.get(options) },
            headers: { cookie },
          }),
          401,
          'invalid_credentials',
        );
      });

      it('refuses an expired challenge (5 minutes), then a fresh one works', async () => {
        const { auth } = await account();
        const b = deviceBrowser(t);
        const options = await loginOptions(b);
        clock.advance(299);
        const cookie = b.cookieHeader();
        clock.advance(2);
        await expectProblem(
          await b.fetch('/auth/passkeys/login', {
            method: 'POST',
            json: { credential: auth.get(options) },
            headers: { cookie },
          }),
          401,
          'invalid_credentials',
        );
        expect((await passkeyLogin(b, auth)).status).toBe(200);
      });

      it('refuses a challenge asked for by another browser (the tw_wa binding), and leaves it to that browser', async () => {
        const { auth } = await account();
        const asker = deviceBrowser(t);
        const options = await loginOptions(asker);
        const credential = auth.get(options);
        const thief = deviceBrowser(t);
        await loginOptions(thief); // a binding of its own
        await expectProblem(
          await thief.fetch('/auth/passkeys/login', { method: 'POST', json: { credential } }),
          401,
          'invalid_credentials',
        );
        await expectProblem(
          await deviceBrowser(t).fetch('/auth/passkeys/login', { method: 'POST', json: { credential } }),
          401,
          'invalid_credentials',
        );
        expect((await asker.fetch('/auth/passkeys/login', { method: 'POST', json: { credential } })).status).toBe(200);
      });

      it('refuses the credential of another user for options asked with an email', async () => {
        const alice = await account();
        const bob = await account();
        const b = deviceBrowser(t);
        const options = await loginOptions(b, alice.email);
        const forged = bob.auth.get(options, { credentialId: bob.auth.credentials[0]?.id as string });
        await expectProblem(
          await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential: forged } }),
          401,
          'invalid_credentials',
        );
        // The attempt spent the challenge (one verification per challenge); Alice's own passkey signs in.
        expect((await passkeyLogin(b, alice.auth, { email: alice.email })).status).toBe(200);
      });

      it('a counter going backwards (a cloned authenticator) is refused and recorded as passkey.clone_suspected', async () => {
        const { b: owner, auth } = await account();
        expect((await passkeyLogin(deviceBrowser(t), auth, { tamper: { counter: 10 } })).status).toBe(200);
        const clone = deviceBrowser(t);
        const refused = await passkeyLogin(clone, auth, { tamper: { counter: 3 } });
        await expectProblem(refused, 401, 'invalid_credentials');
        await expectProblem(await passkeyLogin(clone, auth, { tamper: { counter: 10 } }), 401, 'invalid_credentials');
        expect((await eventTypes(owner)).filter((type) => type === 'passkey.clone_suspected')).toHaveLength(2);
        expect((await passkeyLogin(deviceBrowser(t), auth, { tamper: { counter: 11 } })).status).toBe(200);
      });

      it('an authenticator without a counter (always 0) keeps working', async () => {
        const { auth } = await account({ authenticator: authenticator({ counterStep: 0 }) });
        for (let i = 0; i < 3; i++) expect((await passkeyLogin(deviceBrowser(t), auth)).status).toBe(200);
      });

      it('a step-up challenge never signs in (challenge kinds are separate)', async () => {
        const { b, auth } = await account();
        const options = await stepUpOptions(b);
        await loginOptions(b);
        await expectProblem(
          await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential: auth.get(options) } }),
          401,
          'invalid_credentials',
        );
      });

      it('malformed, oversized, wrong-type and hostile credential JSON: 4xx problem+json, never 500; the challenge survives', async () => {
        const { auth } = await account();
        const b = deviceBrowser(t);
        const options = await loginOptions(b);
        const good = auth.get(options) as Record<string, unknown> & { response: Record<string, unknown> };
        const cookie = b.cookieHeader();
        const bodies: unknown[] = [
          {},
          { credential: null },
          { credential: 'x' },
          { credential: [] },
          { credential: { ...good, id: 42 } },
          { credential: { ...good, id: 'not base64url!' } },
          { credential: { ...good, id: 'a\ud800' } },
          { credential: { ...good, type: 'password' } },
          { credential: { ...good, response: null } },
          { credential: { ...good, response: { ...good.response, signature: { $ne: 1 } } } },
          { credential: { ...good, response: { ...good.response, clientDataJSON: 'A'.repeat(9000) } } },
          {
            credential: {
              ...good,
              response: { ...good.response, clientDataJSON: Buffer.from('not json').toString('base64url') },
            },
          },
          {
            credential: {
              ...good,
              response: { ...good.response, clientDataJSON: Buffer.from('{"challenge":1}').toString('base64url') },
            },
          },
          { credential: { ...good, response: { ...good.response, userHandle: 'x'.repeat(500) } } },
          { credential: { ...good, id: 'A'.repeat(1400), rawId: 'A'.repeat(1400) } },
        ];
        for (const body of bodies) {
          const response = await b.fetch('/auth/passkeys/login', { method: 'POST', json: body, headers: { cookie } });
          expect(response.status, JSON.stringify(body).slice(0, 120)).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          expect(response.headers.get('content-type')).toBe('application/problem+json');
          expect(['invalid_request', 'invalid_credentials']).toContain((await json(response)).code);
        }
        const oversized = await b.fetch('/auth/passkeys/login', {
          method: 'POST',
          json: { credential: { ...good, response: { ...good.response, attestation: 'A'.repeat(70_000) } } },
          headers: { cookie },
        });
        await expectProblem(oversized, 413, 'payload_too_large');
        const notJson = await b.fetch('/auth/passkeys/login', {
          method: 'POST',
          body: '{"credential":',
          headers: { cookie, 'content-type': 'application/json' },
        });
        await expectProblem(notJson, 400, 'invalid_request');
        await expectProblem(
          await b.fetch('/auth/passkeys/login', {
            method: 'POST',
            body: 'x',
            headers: { cookie, 'content-type': 'text/plain' },
          }),
          415,
          'unsupported_media_type',
        );
        // None of it spent the challenge: the genuine assertion still signs in.
        expect(
          (await b.fetch('/auth/passkeys/login', { method: 'POST', json: { credential: good }, headers: { cookie } }))
            .status,
        ).toBe(200);
      });

      it('login options: 400 for a hostile or wrong-type email; an empty POST is the discoverable flow', async () => {
        const b = deviceBrowser(t);
        await expectProblem(
          await b.fetch('/auth/passkeys/login/options', { method: 'POST', json: { email: 'a\ud800@example.com' } }),
          400,
          'invalid_request',
        );
        await expectProblem(
          await b.fetch('/auth/passkeys/login/options', { method: 'POST', json: { email: ['x'] } }),
          400,
          'invalid_request',
        );
        // An empty POST is the discoverable flow.
        expect((await b.fetch('/auth/passkeys/login/options', { method: 'POST' })).status).toBe(200);
      });
    });

    describe('step-up', () => {
      it('a passkey step-up authorises exactly one transfer; the next one needs a new step-up', async () => {
        const { b, auth } = await account();
        const transfer = () => b.fetch('/api/transfer', { method: 'POST', json: { amount: 10, to: 'bob' } });
        await expectProblem(await transfer(), 401, 'step_up_required');
        const granted = await passkeyStepUp(b, auth);
        expect(granted.status).toBe(200);
        expect(parseSetCookies(granted).get('__Host-tw_su')?.attributes.get('httponly')).toBe(true);
        expect((await transfer()).status).toBe(200);
        await expectProblem(await transfer(), 401, 'step_up_required');
        const types = await eventTypes(b);
        expect(types.slice(0, 3)).toEqual(expect.arrayContaining(['step_up.success', 'passkey.used']));
      });

      it('refuses a step-up challenge of another session of the same user, which keeps it', async () => {
        const { b, email, auth } = await account();
        const other = deviceBrowser(t);
        expect((await other.fetch('/auth/login', { method: 'POST', json: { email, password: PASSWORD } })).status).toBe(
          200,
        );
        const credential = auth.get(await stepUpOptions(b));
        await expectProblem(
          await other.fetch('/auth/step-up', { method: 'POST', json: { passkey: credential } }),
          401,
          'invalid_credentials',
        );
        expect(await eventTypes(other)).toContain('step_up.failed');
        expect((await b.fetch('/auth/step-up', { method: 'POST', json: { passkey: credential } })).status).toBe(200);
      });

      it("refuses another user's credential", async () => {
        const alice = await account();
        const bob = await account();
        const options = await stepUpOptions(alice.b);
        const forged = bob.auth.get(options, { credentialId: bob.auth.credentials[0]?.id as string });
        await expectProblem(
          await alice.b.fetch('/auth/step-up', { method: 'POST', json: { passkey: forged } }),
          401,
          'invalid_credentials',
        );
        // The refused attempt spent that challenge; Alice's own passkey answers a fresh one.
        expect((await passkeyStepUp(alice.b, alice.auth)).status).toBe(200);
      });

      it('refuses a replayed step-up assertion and a wrong origin; malformed proofs are 400', async () => {
        const { b, auth } = await account();
        const credential = auth.get(await stepUpOptions(b));
        expect((await b.fetch('/auth/step-up', { method: 'POST', json: { passkey: credential } })).status).toBe(200);
        await expectProblem(
          await b.fetch('/auth/step-up', { method: 'POST', json: { passkey: credential } }),
          401,
          'invalid_credentials',
        );
        await expectProblem(
          await passkeyStepUp(b, auth, { origin: 'https://evil.example' }),
          401,
          'invalid_credentials',
        );
        for (const passkey of ['x', 1, { id: 'x' }, { ...(credential as object), response: {} }])
          await expectProblem(
            await b.fetch('/auth/step-up', { method: 'POST', json: { passkey } }),
            400,
            'invalid_request',
          );
      });

      it('options: 404 for an account without passkeys, 401 without a session', async () => {
        const b = deviceBrowser(t);
        await signupAs(b);
        await expectProblem(await b.fetch('/auth/step-up/passkey/options', { method: 'POST' }), 404, 'not_found');
        await expectProblem(
          await deviceBrowser(t).fetch('/auth/step-up/passkey/options', { method: 'POST' }),
          401,
          'unauthenticated',
        );
      });
    });

    describe('management', () => {
      it('rename: 200 with the new name; another user’s passkey is 404; an empty or hostile name is 400', async () => {
        const { b, passkeyId } = await account();
        const renamed = await b.fetch(`/auth/passkeys/${passkeyId}`, { method: 'PATCH', json: { name: ' Phone ' } });
        expect(renamed.status).toBe(200);
        expect((await json<{ passkey: { name: string } }>(renamed)).passkey.name).toBe('Phone');
        const other = await account();
        await expectProblem(
          await other.b.fetch(`/auth/passkeys/${passkeyId}`, { method: 'PATCH', json: { name: 'mine' } }),
          404,
          'not_found',
        );
        for (const name of ['', '   ', 'a\ud800', 'x'.repeat(65), 7])
          await expectProblem(
            await b.fetch(`/auth/passkeys/${passkeyId}`, { method: 'PATCH', json: { name } }),
            400,
            'invalid_request',
          );
        await expectProblem(
          await b.fetch('/auth/passkeys/not-an-id', { method: 'PATCH', json: { name: 'x' } }),
          404,
          'not_found',
        );
      });

      it('delete needs a step-up; another user’s passkey is 404 and keeps the grant; then 204 and passkey.removed', async () => {
        const { b, passkeyId } = await account();
        const other = await account();
        await expectProblem(
          await b.fetch(`/auth/passkeys/${passkeyId}`, { method: 'DELETE' }),
          401,
          'step_up_required',
        );
        expect((await stepUp(b)).status).toBe(200);
        await expectProblem(await b.fetch(`/auth/passkeys/${other.passkeyId}`, { method: 'DELETE' }), 404, 'not_found');
        expect(await passkeyCount(other.b)).toBe(1);
        expect((await b.fetch(`/auth/passkeys/${passkeyId}`, { method: 'DELETE' })).status).toBe(204);
        expect(await passkeyCount(b)).toBe(0);
        expect(await eventTypes(b)).toContain('passkey.removed');
      });

      it('the account export lists passkeys without key material', async () => {
        const { userId, auth } = await account();
        const exported = await Promise.all(t.tw.context.accountExports.map((f) => f(userId)));
        const entry = exported.find((e) => 'passkeys' in e) as { passkeys: Array<Record<string, unknown>> };
        expect(entry.passkeys).toHaveLength(1);
        expect(entry.passkeys[0]).toMatchObject({
          name: 'Laptop',
          deviceType: 'singleDevice',
          transports: ['internal'],
        });
        const text = JSON.stringify(exported);
        expect(text).not.toContain(auth.credentials[0]?.id as string);
        expect(text).not.toMatch(/publicKey|credentialId/);
      });
    });
  });
}
