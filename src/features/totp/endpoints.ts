import QRCode from 'qrcode';
import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import { parseBody, text } from '../../server/body-schema.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { readJsonObject } from '../../server/http.js';
import { loginResponse } from '../../server/login-response.js';
import { clearPendingLoginCookie, readPendingLogin } from '../../server/pending-login-cookie.js';
import type { TotpManager } from './totp-manager.js';

/** Wrong second factors allowed per pending login before it is dropped (the per-user backoff applies too). */
const ATTEMPTS_PER_PENDING_LOGIN = 5;

/**
 * Changing the second factor needs the second factor: a current TOTP code besides the step-up
 * (a password alone — which step-up accepts — must never turn TOTP off or mint new recovery codes).
 */
const currentCodeBody = z.object({ code: text({ max: 16 }).nullish() });
function currentCode(body: z.output<typeof currentCodeBody>): string {
  if (body.code === undefined || body.code === null)
    throw new TokenwardError('invalid_code', { detail: 'A current code from the authenticator app is required.' });
  return body.code.trim();
}

const secondStepBody = z.object({ code: text({ max: 16 }).nullish(), recoveryCode: text({ max: 64 }).nullish() });

/**
 * `GET /auth/totp`, `POST /auth/totp/enroll` (step-up), `POST /auth/totp/confirm`,
 * `POST /auth/totp/recovery-codes` (step-up + code), `POST /auth/totp/disable` (step-up + code),
 * `POST /auth/login/totp` (the second login step).
 */
export function totpEndpoints(ctx: ServerContext, totp: TotpManager): AnyEndpoint[] {
  const event = (
    type: 'totp.enrollment_started' | 'totp.enabled' | 'totp.disabled' | 'totp.recovery_codes_regenerated',
    userId: string,
    sessionId: string,
    rc: { ip: string; userAgent: string },
  ) => ctx.kernel.recordEvent({ type, userId, ip: rc.ip, sessionId, userAgent: rc.userAgent });

  const status = defineEndpoint(
    { method: 'GET', path: '/totp', guard: 'session', body: 'none' },
    async ({ c, session }) => c.json(await totp.status(session.userId)),
  );

  const enroll = defineEndpoint(
    // allowRestricted: enrolling is what a session restricted by requireMfa is for.
    { method: 'POST', path: '/totp/enroll', guard: 'step-up', body: 'none', allowRestricted: true },
    async ({ c, rc, session }) => {
      const user = await ctx.store.findUserById(session.userId);
      if (!user)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      // A 409 gives the step-up grant back (only a successful answer consumes it).
      if ((await totp.status(user.id)).enabled) throw new TokenwardError('totp_already_enabled');
      const { otpauthUri } = await totp.beginEnrollment(user);
      const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      await event('totp.enrollment_started', user.id, session.sessionId, rc);
      return c.json({ otpauthUri, qrSvg });
    },
  );

  const confirm = defineEndpoint(
    {
      method: 'POST',
      path: '/totp/confirm',
      guard: 'session',
      body: z.object({ code: text({ max: 16 }) }),
      allowRestricted: true,
    },
    async ({ c, body, rc, session }) => {
      const { recoveryCodes } = await totp.confirmEnrollment(session.userId, body.code.trim());
      await event('totp.enabled', session.userId, session.sessionId, rc);
      return c.json({ enabled: true, recoveryCodes });
    },
  );

  const recoveryCodes = defineEndpoint(
    { method: 'POST', path: '/totp/recovery-codes', guard: 'step-up', body: currentCodeBody, optionalBody: true },
    async ({ c, body, rc, session }) => {
      if (!(await totp.status(session.userId)).enabled)
        throw new TokenwardError('invalid_request', { detail: 'TOTP is not enabled.' });
      await totp.verify(session.userId, { code: currentCode(body) });
      const { recoveryCodes } = await totp.regenerateRecoveryCodes(session.userId);
      await event('totp.recovery_codes_regenerated', session.userId, session.sessionId, rc);
      return c.json({ recoveryCodes });
    },
  );

  const disable = defineEndpoint(
    { method: 'POST', path: '/totp/disable', guard: 'step-up', body: currentCodeBody, optionalBody: true },
    async ({ c, body, rc, session }) => {
      await totp.verify(session.userId, { code: currentCode(body) });
      // With requireMfa the last second factor stays (409 last_second_factor), even against a racing removal.
      if (await ctx.kernel.removeSecondFactor(session.userId, () => totp.disable(session.userId)))
        await event('totp.disabled', session.userId, session.sessionId, rc);
      return c.body(null, 204);
    },
  );

  const secondStep = defineEndpoint(
    // Login CSRF: the pending-login cookie is SameSite=Strict, and the rule applies as for login.
    { method: 'POST', path: '/login/totp', guard: 'anonymous', body: 'raw' },
    async ({ c, rc }) => {
      const pending = await readPendingLogin(ctx, c);
      if (pending === null) throw new TokenwardError('mfa_pending_invalid');
      const { code, recoveryCode } = parseBody(secondStepBody, await readJsonObject(c));
      if ((code == null) === (recoveryCode == null))
        throw new TokenwardError('invalid_request', { detail: 'Send exactly one of code or recoveryCode.' });
      const attempts = await ctx.limiter.consume(
        `mfa:pending:${pending.id}`,
        ATTEMPTS_PER_PENDING_LOGIN,
        Math.max(1, Math.ceil((pending.expiresAt - ctx.clock.now()) / 1000)),
      );
      if (!attempts.allowed) {
        clearPendingLoginCookie(ctx, c);
        throw new TokenwardError('mfa_pending_invalid', {
          detail: 'Too many wrong codes for this login; log in again.',
        });
      }
      let method: 'totp' | 'recovery_code';
      try {
        method = await totp.verify(
          pending.userId,
          code != null ? { code: code.trim() } : { recoveryCode: recoveryCode ?? '' },
        );
      } catch (error) {
        if (error instanceof TokenwardError && error.code === 'invalid_code') {
          await ctx.kernel.recordEvent({
            type: 'login.second_factor_failed',
            userId: pending.userId,
            ip: rc.ip,
            sessionId: null,
            userAgent: rc.userAgent,
          });
          // API.md: a wrong code at the login's second step is 401 (no session was proven).
          throw new TokenwardError('invalid_code', { status: 401 });
        }
        throw error;
      }
      // The pending login completes once: a replayed cookie cannot mint a second session.
      if (!(await ctx.limiter.claimOnce(`mfa:done:${pending.id}`, 3600)))
        throw new TokenwardError('mfa_pending_invalid');
      const user = await ctx.store.findUserById(pending.userId);
      if (!user) throw new TokenwardError('mfa_pending_invalid');
      const amr = method === 'totp' ? [...pending.amr, 'otp', 'mfa'] : [...pending.amr, 'mfa'];
      const outcome = await ctx.kernel.finishLogin(user, amr, rc, { secondFactorDone: true });
      if (method === 'recovery_code' && outcome.kind === 'session') {
        await ctx.kernel.recordEvent({
          type: 'totp.recovery_code_used',
          userId: user.id,
          ip: rc.ip,
          sessionId: outcome.issued.session.id,
          userAgent: rc.userAgent,
        });
      }
      clearPendingLoginCookie(ctx, c);
      return loginResponse(ctx, c, outcome, rc);
    },
  );

  return [status, enroll, confirm, recoveryCodes, disable, secondStep];
}
