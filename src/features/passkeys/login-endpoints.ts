import type { Context } from 'hono';
import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import { sha256, timingSafeEqualStrings } from '../../kernel/crypto/encoding.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { RequestContext } from '../../kernel/request-context.js';
import { normalizeEmail } from '../../kernel/users/normalize-email.js';
import { parseBody, text } from '../../server/body-schema.js';
import type { ServerContext } from '../../server/context.js';
import { readCookie } from '../../server/cookies.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { readJsonObject } from '../../server/http.js';
import { loginResponse } from '../../server/login-response.js';
import { clearPendingLoginCookie, readPendingLogin } from '../../server/pending-login-cookie.js';
import { CHALLENGE_TTL_SEC, newBrowserBinding } from './challenges.js';
import { authenticationCredential } from './credential-json.js';
import type { PasskeyService, VerifiedAssertion } from './passkey-service.js';

/** The browser-binding cookie's value: 256 random bits, base64url. */
const BINDING_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Wrong answers allowed per pending login (shared with the TOTP second step: the same counter). */
const ATTEMPTS_PER_PENDING_LOGIN = 5;

const credentialBody = z.object({ credential: authenticationCredential });

/**
 * Signing in with a passkey: `POST /auth/passkeys/login/options` and `POST /auth/passkeys/login`
 * (a full session on its own), and the passkey as the second step of a password login
 * (`POST /auth/login/passkey/options`, `POST /auth/login/passkey`, with the pending-login cookie).
 *
 * A sign-in challenge belongs to no session yet, so it is bound to the browser that asked: the
 * options set a random value in the HttpOnly, SameSite=Strict `tw_wa` cookie and the challenge
 * stores its hash. Script injected into the page (XSS) can still ask the authenticator for an
 * assertion, but cannot read that cookie, so it cannot redeem the assertion anywhere but in the
 * victim's own browser: it never mints a session on the attacker's machine — the same promise
 * the HttpOnly session cookies make.
 */
export function passkeyLoginEndpoints(ctx: ServerContext, passkeys: PasskeyService): AnyEndpoint[] {
  const limits = ctx.config.limits;
  const perIp = (rc: RequestContext) => enforceIpLimit(ctx.limiter, 'passkey_login', rc.ip, limits.loginPerIp, limits);

  const used = (assertion: VerifiedAssertion, rc: RequestContext, sessionId: string | null, purpose: string) =>
    ctx.kernel.recordEvent({
      type: 'passkey.used',
      userId: assertion.passkey.userId,
      ip: rc.ip,
      sessionId,
      userAgent: rc.userAgent,
      data: { passkeyId: assertion.passkey.id, purpose },
    });

  const loginOptions = defineEndpoint(
    {
      method: 'POST',
      path: '/passkeys/login/options',
      guard: 'anonymous',
      body: z.object({ email: text({ max: 320 }).nullish() }),
      optionalBody: true,
    },
    async ({ c, body, rc }) => {
      await perIp(rc);
      const presented = readCookie(c.req.header('cookie'), ctx.cookies.name('wa'));
      // One binding per browser: two tabs (or the autofill request and a button) share it.
      const binding = presented !== null && BINDING_SHAPE.test(presented) ? presented : newBrowserBinding();
      const browser = await sha256(`passkey-login|${binding}`);
      const email = body.email?.trim() ? (normalizeEmail(body.email) ?? body.email.trim().toLowerCase()) : null;
      let options: unknown;
      if (email === null) {
        // Discoverable credentials: the authenticator offers this site's passkeys (autofill, or a chooser).
        options = await passkeys.requestOptions('webauthn-login', [], {
          userId: null,
          sessionId: null,
          data: { browser },
        });
      } else {
        const user = await ctx.store.findUserByEmail(email);
        const own = user ? await passkeys.store.listForUser(user.id) : [];
        // An address without passkeys (or without an account) gets a stable decoy credential
        // instead of an empty list: the answer does not tell who has an account or a passkey.
        const allow = own.length > 0 ? own : await passkeys.decoyCredentials(email);
        options = await passkeys.requestOptions('webauthn-login', allow, {
          userId: own.length > 0 && user ? user.id : null,
          sessionId: null,
          data: { browser, email: true },
        });
      }
      c.header('Set-Cookie', ctx.cookies.serialize('wa', binding, CHALLENGE_TTL_SEC), { append: true });
      return c.json(options);
    },
  );

  const login = defineEndpoint(
    { method: 'POST', path: '/passkeys/login', guard: 'anonymous', body: credentialBody },
    async ({ c, body, rc }) => {
      await perIp(rc);
      const presented = readCookie(c.req.header('cookie'), ctx.cookies.name('wa'));
      const browser =
        presented !== null && BINDING_SHAPE.test(presented) ? await sha256(`passkey-login|${presented}`) : null;
      const assertion = await passkeys.verifyAssertion(
        'webauthn-login',
        body.credential,
        async (challenge) =>
          challenge.sessionId === null &&
          browser !== null &&
          typeof challenge.data?.browser === 'string' &&
          (await timingSafeEqualStrings(challenge.data.browser, browser)),
        rc,
        'invalid_credentials',
      );
      const user = await ctx.store.findUserById(assertion.passkey.userId);
      if (!user) throw new TokenwardError('invalid_credentials');
      // A passkey with user verification is two factors at once: no second step, and a full
      // session even when requireMfa is on.
      const outcome = await ctx.kernel.finishLogin(user, assertion.amr, rc, { secondFactorDone: true });
      await used(assertion, rc, outcome.kind === 'session' ? outcome.issued.session.id : null, 'login');
      c.header('Set-Cookie', ctx.cookies.clear('wa'), { append: true });
      return loginResponse(ctx, c, outcome, rc);
    },
  );

  const secondStepOptions = defineEndpoint(
    // Login CSRF as for login; the pending-login cookie is SameSite=Strict.
    { method: 'POST', path: '/login/passkey/options', guard: 'anonymous', body: 'none' },
    async ({ c }) => {
      const pending = await readPendingLogin(ctx, c);
      if (pending === null) throw new TokenwardError('mfa_pending_invalid');
      const own = await passkeys.store.listForUser(pending.userId);
      if (own.length === 0) throw new TokenwardError('not_found', { detail: 'This account has no passkey.' });
      return c.json(
        await passkeys.requestOptions('webauthn-second-factor', own, {
          userId: pending.userId,
          sessionId: null,
          data: { pending: pending.id },
        }),
      );
    },
  );

  const secondStep = defineEndpoint(
    { method: 'POST', path: '/login/passkey', guard: 'anonymous', body: 'raw' },
    async ({ c, rc }) => {
      const pending = await readPendingLogin(ctx, c);
      if (pending === null) throw new TokenwardError('mfa_pending_invalid');
      const { credential } = parseBody(credentialBody, await readJsonObject(c as Context));
      // The same counter as the TOTP second step: one budget of wrong answers per pending login.
      const attempts = await ctx.limiter.consume(
        `mfa:pending:${pending.id}`,
        ATTEMPTS_PER_PENDING_LOGIN,
        Math.max(1, Math.ceil((pending.expiresAt - ctx.clock.now()) / 1000)),
      );
      if (!attempts.allowed) {
        clearPendingLoginCookie(ctx, c);
        throw new TokenwardError('mfa_pending_invalid', {
          detail: 'Too many failed attempts for this login; log in again.',
        });
      }
      let assertion: VerifiedAssertion;
      try {
        assertion = await passkeys.verifyAssertion(
          'webauthn-second-factor',
          credential,
          (challenge) => challenge.userId === pending.userId && challenge.data?.pending === pending.id,
          rc,
          'invalid_credentials',
        );
      } catch (error) {
        if (error instanceof TokenwardError && error.code === 'invalid_credentials')
          await ctx.kernel.recordEvent({
            type: 'login.second_factor_failed',
            userId: pending.userId,
            ip: rc.ip,
            sessionId: null,
            userAgent: rc.userAgent,
            data: { method: 'passkey' },
          });
        throw error;
      }
      // A pending login completes once, whichever factor completes it (the TOTP step claims the same key).
      if (!(await ctx.limiter.claimOnce(`mfa:done:${pending.id}`, 3600)))
        throw new TokenwardError('mfa_pending_invalid');
      const user = await ctx.store.findUserById(pending.userId);
      if (!user) throw new TokenwardError('mfa_pending_invalid');
      const outcome = await ctx.kernel.finishLogin(user, [...pending.amr, ...assertion.amr], rc, {
        secondFactorDone: true,
      });
      await used(assertion, rc, outcome.kind === 'session' ? outcome.issued.session.id : null, 'second_factor');
      clearPendingLoginCookie(ctx, c);
      return loginResponse(ctx, c, outcome, rc);
    },
  );

  return [loginOptions, login, secondStepOptions, secondStep];
}
