import type { Hono } from 'hono';
import { TokenwardError } from '../../errors.js';
import type { ServerContext, TokenwardEnv } from '../../server/context.js';
import { defineRoute } from '../../server/define-route.js';
import { readJsonObject, stringField } from '../../server/http.js';
import { enforceCsrf } from '../../server/middleware/csrf.js';
import { setPendingLoginCookie } from '../../server/pending-login-cookie.js';
import { requestContext } from '../../server/request-context.js';
import { sessionJson, setSessionCookies, userJson } from '../../server/session-cookies.js';

/** `POST /auth/signup` and `POST /auth/login`. */
export function credentialRoutes(app: Hono<TokenwardEnv>, ctx: ServerContext): void {
  const base = ctx.config.basePath;
  // Login CSRF: the double-submit token for anonymous requests is bound to no session.
  const csrf = { loginCsrf: true, bindings: () => [null] };

  defineRoute(app, `${base}/signup`, {
    POST: async (c) => {
      await enforceCsrf(ctx, c, csrf);
      const body = await readJsonObject(c);
      const email = stringField(body, 'email', { max: 320 }) as string;
      const password = stringField(body, 'password', { max: 1024, allowControl: true }) as string;
      const name = stringField(body, 'name', { max: 100, optional: true }) ?? null;
      if (password.includes('\u0000'))
        throw new TokenwardError('weak_password', { detail: 'The password must not contain NUL characters.' });
      const rc = requestContext(ctx, c);
      const issued = await ctx.service.signup(
        { email, password, name: name === null ? null : name.trim() || null },
        rc,
      );
      setSessionCookies(ctx, c, issued, rc.deviceId);
      return c.json({ user: userJson(issued.user), session: sessionJson(issued.session, issued.accessExpiresAt) }, 201);
    },
  });

  defineRoute(app, `${base}/login`, {
    POST: async (c) => {
      await enforceCsrf(ctx, c, csrf);
      const body = await readJsonObject(c);
      const email = stringField(body, 'email', { max: 320 }) as string;
      const password = stringField(body, 'password', { max: 1024, allowControl: true }) as string;
      const rc = requestContext(ctx, c);
      const outcome = await ctx.service.beginLogin({ email, password }, rc);
      if (outcome.kind === 'second_factor') {
        // TOTP on: no session yet; a sealed 5-minute cookie carries the login to POST {base}/login/totp.
        await setPendingLoginCookie(ctx, c, outcome.user.id, outcome.amr);
        return c.json({ mfaRequired: true }, 200);
      }
      const { issued } = outcome;
      setSessionCookies(ctx, c, issued, rc.deviceId);
      return c.json({ user: userJson(issued.user), session: sessionJson(issued.session, issued.accessExpiresAt) }, 200);
    },
  });
}
