import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import { text } from '../../server/body-schema.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { loginResponse } from '../../server/login-response.js';
import { changePassword } from './change-password.js';
import { loadCommonPasswords } from './common-passwords.js';
import { passwordLogin } from './password-login.js';
import { signup } from './signup.js';

/** Passwords: any character is allowed (NUL is refused by the policy), within 1024 code units. */
const password = () => text({ max: 1024, allowControl: true });

/** `POST /auth/signup`, `POST /auth/login`, `POST /auth/password`. */
export function passwordEndpoints(ctx: ServerContext): AnyEndpoint[] {
  const common = loadCommonPasswords();
  const limits = ctx.config.limits;

  const signupEndpoint = defineEndpoint(
    {
      method: 'POST',
      path: '/signup',
      guard: 'anonymous',
      body: z.object({ email: text({ max: 320 }), password: password(), name: text({ max: 100 }).nullish() }),
    },
    async ({ c, body, rc }) => {
      const name = body.name?.trim() || null;
      const outcome = await signup(
        ctx.kernel,
        limits,
        common,
        { email: body.email, password: body.password, name },
        rc,
      );
      return loginResponse(ctx, c, outcome, rc, 201);
    },
  );

  const login = defineEndpoint(
    {
      method: 'POST',
      path: '/login',
      guard: 'anonymous',
      body: z.object({ email: text({ max: 320 }), password: password() }),
    },
    async ({ c, body, rc }) => loginResponse(ctx, c, await passwordLogin(ctx.kernel, limits, body, rc), rc),
  );

  const change = defineEndpoint(
    {
      method: 'POST',
      path: '/password',
      guard: 'session',
      body: z.object({ currentPassword: password(), newPassword: password() }),
    },
    async ({ c, body, rc, session }) => {
      const user = await ctx.store.findUserById(session.userId);
      if (!user)
        throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
      const revoked = await changePassword(ctx.kernel, limits, common, user, body, rc, session.sessionId);
      return c.json({ revoked });
    },
  );

  return [signupEndpoint, login, change];
}
