import type { Context, Hono } from 'hono';
import QRCode from 'qrcode';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { defineRoute } from '../../server/define-route.js';
import { discardBody, readJsonObject, stringField } from '../../server/http.js';
import { enforceCsrf } from '../../server/middleware/csrf.js';
import { clearPendingLoginCookie, readPendingLogin } from '../../server/pending-login-cookie.js';
import { requestContext } from '../../server/request-context.js';
import { sessionJson, setSessionCookies, userJson } from '../../server/session-cookies.js';
import { signedIn, withStepUp } from '../step-up/require-step-up.js';

/** Wrong second factors allowed per pending login before it is dropped (the per-user backoff applies too). */
const ATTEMPTS_PER_PENDING_LOGIN = 5;

/**
 * `GET /auth/totp`, `POST /auth/totp/enroll` (step-up), `POST /auth/totp/confirm`,
 * `POST /auth/totp/recovery-codes` (step-up), `POST /auth/totp/disable` (step-up),
 * `POST /auth/login/totp` (the second login step).
 */
export function totpRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  const base = ctx.config.basePath;
  const { totp } = ctx.security;
  const stepUpMaxAge = ctx.config.stepUpTtlSec;

  defineRoute(app, `${base}/totp`, {
    GET: async (c) => {
      const info = await signedIn(ctx, c);
      return c.json(await totp.status(info.userId));
    },
  });

  defineRoute(app, `${base}/totp/enroll`, {
    POST: async (c) => {
      const info = await signedIn(ctx, c);
      await discardBody(c);
      const user = await ctx.store.findUserById(info.userId);
      if (!user)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      // Refuse before claiming the grant, so a pointless request does not cost the user a step-up.
      if ((await totp.status(user.id)).enabled) throw new TokenwardError('totp_already_enabled');
      return withStepUp(ctx, c, info, stepUpMaxAge, async () => {
        const { otpauthUri } = await totp.beginEnrollment(user);
        const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
        const rc = requestContext(ctx, c);
        await ctx.service.recordEvent({
          type: 'totp.enrollment_started',
          userId: user.id,
          ip: rc.ip,
          sessionId: info.sessionId,
          userAgent: rc.userAgent,
        });
        return c.json({ otpauthUri, qrSvg });
      });
    },
  });

  defineRoute(app, `${base}/totp/confirm`, {
    POST: async (c) => {
      const info = await signedIn(ctx, c);
      const body = await readJsonObject(c);
      const code = stringField(body, 'code', { max: 16 }) as string;
      const { recoveryCodes } = await totp.confirmEnrollment(info.userId, code.trim());
      const rc = requestContext(ctx, c);
      await ctx.service.recordEvent({
        type: 'totp.enabled',
        userId: info.userId,
        ip: rc.ip,
        sessionId: info.sessionId,
        userAgent: rc.userAgent,
      });
      return c.json({ enabled: true, recoveryCodes });
    },
  });

  /**
   * Changing the second factor needs the second factor: a current TOTP code besides the step-up
   * (a password alone — which step-up accepts — must never turn TOTP off or mint new recovery codes).
   */
  const currentCode = async (c: Context<TokenwardEnv>): Promise<string> => {
    const body = await readJsonObject(c, { optional: true });
    const code = stringField(body, 'code', { max: 16, optional: true });
    if (code === undefined)
      throw new TokenwardError('invalid_code', { detail: 'A current code from the authenticator app is required.' });
    return code.trim();
  };

  defineRoute(app, `${base}/totp/recovery-codes`, {
    POST: async (c) => {
      const info = await signedIn(ctx, c);
      if (!(await totp.status(info.userId)).enabled)
        throw new TokenwardError('invalid_request', { detail: 'TOTP is not enabled.' });
      return withStepUp(ctx, c, info, stepUpMaxAge, async () => {
        await totp.verify(info.userId, { code: await currentCode(c) });
        const { recoveryCodes } = await totp.regenerateRecoveryCodes(info.userId);
        const rc = requestContext(ctx, c);
        await ctx.service.recordEvent({
          type: 'totp.recovery_codes_regenerated',
          userId: info.userId,
          ip: rc.ip,
          sessionId: info.sessionId,
          userAgent: rc.userAgent,
        });
        return c.json({ recoveryCodes });
      });
    },
  });

  defineRoute(app, `${base}/totp/disable`, {
    POST: async (c) => {
      const info = await signedIn(ctx, c);
      return withStepUp(ctx, c, info, stepUpMaxAge, async () => {
        await totp.verify(info.userId, { code: await currentCode(c) });
        const wasEnabled = await totp.disable(info.userId);
        if (wasEnabled) {
          const rc = requestContext(ctx, c);
          await ctx.service.recordEvent({
            type: 'totp.disabled',
            userId: info.userId,
            ip: rc.ip,
            sessionId: info.sessionId,
            userAgent: rc.userAgent,
          });
        }
        return c.body(null, 204);
      });
    },
  });

  defineRoute(app, `${base}/login/totp`, {
    POST: async (c) => {
      // Login CSRF: the pending-login cookie is SameSite=Strict, and the rule applies as for login.
      await enforceCsrf(ctx, c, { loginCsrf: true, bindings: () => [null] });
      const pending = await readPendingLogin(ctx, c);
      if (pending === null) throw new TokenwardError('mfa_pending_invalid');
      const body = await readJsonObject(c);
      const code = stringField(body, 'code', { max: 16, optional: true });
      const recoveryCode = stringField(body, 'recoveryCode', { max: 64, optional: true });
      if ((code === undefined) === (recoveryCode === undefined))
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
      const rc = requestContext(ctx, c);
      let method: 'totp' | 'recovery_code';
      try {
        method = await totp.verify(
          pending.userId,
          code !== undefined ? { code: code.trim() } : { recoveryCode: recoveryCode ?? '' },
        );
      } catch (error) {
        if (error instanceof TokenwardError && error.code === 'invalid_code') {
          await ctx.service.recordEvent({
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
      const amr = method === 'totp' ? [...pending.amr, 'otp', 'mfa'] : [...pending.amr, 'mfa'];
      const issued = await ctx.service.completeLogin(pending.userId, [...new Set(amr)], rc);
      if (method === 'recovery_code') {
        await ctx.service.recordEvent({
          type: 'totp.recovery_code_used',
          userId: pending.userId,
          ip: rc.ip,
          sessionId: issued.session.id,
          userAgent: rc.userAgent,
        });
      }
      clearPendingLoginCookie(ctx, c);
      setSessionCookies(ctx, c, issued, rc.deviceId);
      return c.json({ user: userJson(issued.user), session: sessionJson(issued.session, issued.accessExpiresAt) }, 200);
    },
  });
}
