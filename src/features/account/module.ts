import { TokenwardError } from '../../errors.js';
import { defineEndpoint } from '../../server/define-endpoint.js';
import { clearSessionCookies } from '../../server/session-cookies.js';
import type { FeatureModule } from '../feature.js';
import { exportAccount } from './export-account.js';

const GONE = () =>
  new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });

export const setup: FeatureModule['setup'] = (ctx) => {
  const download = defineEndpoint(
    { method: 'GET', path: '/account/export', guard: 'session', body: 'none' },
    async ({ c, rc, session }) => {
      const user = await ctx.store.findUserById(session.userId);
      if (!user) throw GONE();
      const data = await exportAccount(ctx, user, session.sessionId);
      // Who took a copy of the account's data, from where, is worth a line in the audit trail.
      await ctx.kernel.recordEvent({
        type: 'account.exported',
        userId: user.id,
        ip: rc.ip,
        sessionId: session.sessionId,
        userAgent: rc.userAgent,
      });
      return c.json(data, 200, { 'Content-Disposition': 'attachment; filename="account-export.json"' });
    },
  );

  const remove = defineEndpoint(
    { method: 'DELETE', path: '/account', guard: 'step-up', body: 'none' },
    async ({ c, rc, session }) => {
      const ended = await ctx.kernel.deleteUser(session.userId, rc);
      if (ended === null) throw GONE();
      // The SQL stores deleted the links in the same transaction; the in-memory store keeps them apart.
      await ctx.artifacts.deleteForUser(session.userId);
      clearSessionCookies(ctx, c);
      return c.body(null, 204);
    },
  );

  return { endpoints: [download, remove] };
};
