import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import type { User } from '../../kernel/ports.js';
import type { RequestContext } from '../../kernel/request-context.js';
import { text } from '../../server/body-schema.js';
import type { ServerContext, SessionInfo } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { iso } from '../../server/http.js';
import { registrationCredential } from './credential-json.js';
import type { PasskeyService } from './passkey-service.js';
import type { Passkey } from './store.js';

/** A user-chosen label: 1–64 characters after trimming (the body schema already refuses lone surrogates and control characters). */
const passkeyName = text({ min: 1, max: 64 });
/** Tokenward's passkey ids are UUIDs; anything else is 404 without a query. */
const PASSKEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function trimmedName(name: string | null | undefined): string | null {
  const value = name?.trim();
  return value ? value : null;
}

/** The JSON view of a passkey: never the public key or the credential id. */
export function passkeyJson(p: Passkey): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    createdAt: iso(p.createdAt),
    lastUsedAt: p.lastUsedAt === null ? null : iso(p.lastUsedAt),
    backedUp: p.backedUp,
  };
}

async function currentUser(ctx: ServerContext, session: SessionInfo): Promise<User> {
  const user = await ctx.store.findUserById(session.userId);
  if (!user)
    throw new TokenwardError('invalid_token', { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  return user;
}

/**
 * Managing one's passkeys: `POST /auth/passkeys/register/options` (step-up), `POST
 * /auth/passkeys/register`, `GET /auth/passkeys`, `PATCH /auth/passkeys/:id` (rename), `DELETE
 * /auth/passkeys/:id` (step-up; never the last second factor of an account that requires one).
 */
export function passkeyManagementEndpoints(ctx: ServerContext, passkeys: PasskeyService): AnyEndpoint[] {
  const event = (
    type: 'passkey.added' | 'passkey.removed' | 'passkey.renamed',
    session: SessionInfo,
    rc: RequestContext,
    passkey: Passkey,
  ) =>
    ctx.kernel.recordEvent({
      type,
      userId: session.userId,
      ip: rc.ip,
      sessionId: session.sessionId,
      userAgent: rc.userAgent,
      data: { passkeyId: passkey.id, name: passkey.name },
    });

  const registerOptions = defineEndpoint(
    {
      method: 'POST',
      path: '/passkeys/register/options',
      // A new way to sign in is a sensitive change: a fresh step-up, spent by these options (the
      // challenge then carries the permission, bound to this session, for 5 minutes).
      guard: 'step-up',
      body: z.object({ name: passkeyName.nullish() }),
      optionalBody: true,
      // Enrolling a passkey is what a session restricted by requireMfa is for.
      allowRestricted: true,
    },
    async ({ c, body, session }) => {
      const user = await currentUser(ctx, session);
      return c.json(await passkeys.registrationOptions(user, session.sessionId, trimmedName(body.name)));
    },
  );

  const register = defineEndpoint(
    {
      method: 'POST',
      path: '/passkeys/register',
      guard: 'session',
      body: z.object({ credential: registrationCredential, name: passkeyName.nullish() }),
      allowRestricted: true,
    },
    async ({ c, body, rc, session }) => {
      const user = await currentUser(ctx, session);
      const passkey = await passkeys.register(user, session.sessionId, body.credential, trimmedName(body.name));
      await event('passkey.added', session, rc, passkey);
      return c.json({ passkey: passkeyJson(passkey) }, 201);
    },
  );

  const list = defineEndpoint(
    { method: 'GET', path: '/passkeys', guard: 'session', body: 'none' },
    async ({ c, session }) => c.json({ passkeys: (await passkeys.store.listForUser(session.userId)).map(passkeyJson) }),
  );

  const rename = defineEndpoint(
    { method: 'PATCH', path: '/passkeys/:id', guard: 'session', body: z.object({ name: passkeyName }) },
    async ({ c, body, rc, session }) => {
      const id = c.req.param('id') ?? '';
      const name = trimmedName(body.name);
      if (name === null) throw new TokenwardError('invalid_request', { detail: 'name is too short.' });
      const renamed = PASSKEY_ID.test(id) ? await passkeys.store.rename(session.userId, id, name) : null;
      if (renamed === null) throw new TokenwardError('not_found');
      await event('passkey.renamed', session, rc, renamed);
      return c.json({ passkey: passkeyJson(renamed) });
    },
  );

  const remove = defineEndpoint(
    { method: 'DELETE', path: '/passkeys/:id', guard: 'step-up', body: 'none' },
    async ({ c, rc, session }) => {
      const id = c.req.param('id') ?? '';
      // 404 for an unknown id and for another user's passkey alike (and the grant is kept: not a 2xx).
      const passkey = PASSKEY_ID.test(id) ? await passkeys.store.findForUser(session.userId, id) : null;
      if (passkey === null) throw new TokenwardError('not_found');
      const removed = await ctx.kernel.removeSecondFactor(session.userId, () =>
        passkeys.store.delete(session.userId, id),
      );
      if (!removed) throw new TokenwardError('not_found');
      await event('passkey.removed', session, rc, passkey);
      return c.body(null, 204);
    },
  );

  return [registerOptions, register, list, rename, remove];
}
