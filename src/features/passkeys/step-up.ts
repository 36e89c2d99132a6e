import { z } from 'zod';
import { TokenwardError } from '../../errors.js';
import type { StepUpMethod } from '../../kernel/login/factors.js';
import { parseBody } from '../../server/body-schema.js';
import type { ServerContext } from '../../server/context.js';
import { type AnyEndpoint, defineEndpoint } from '../../server/define-endpoint.js';
import { type AuthenticationCredential, authenticationCredential } from './credential-json.js';
import type { PasskeyService } from './passkey-service.js';

/**
 * `POST /auth/step-up/passkey/options`: request options for the signed-in user's own passkeys,
 * with a challenge bound to this session (a step-up assertion from another session, or another
 * account's credential, is refused).
 */
export function passkeyStepUpEndpoints(_ctx: ServerContext, passkeys: PasskeyService): AnyEndpoint[] {
  const options = defineEndpoint(
    {
      method: 'POST',
      path: '/step-up/passkey/options',
      guard: 'session',
      body: 'none',
      // Step-up is how a restricted session gets to enrolment; offering a passkey there is harmless.
      allowRestricted: true,
    },
    async ({ c, session }) => {
      const own = await passkeys.store.listForUser(session.userId);
      if (own.length === 0) throw new TokenwardError('not_found', { detail: 'This account has no passkey.' });
      return c.json(
        await passkeys.requestOptions('webauthn-step-up', own, {
          userId: session.userId,
          sessionId: session.sessionId,
          data: null,
        }),
      );
    },
  );
  return [options];
}

/**
 * `POST /auth/step-up {passkey: credential}`: an assertion answering a `webauthn-step-up`
 * challenge of this very session, by one of this user's passkeys; it issues the same single-use
 * grant as a password or a TOTP code. Not guessable, so no per-account backoff: the step-up
 * endpoint's per-network limit bounds replays and failures.
 */
export function passkeyStepUpMethod(ctx: ServerContext, passkeys: PasskeyService): StepUpMethod {
  return {
    field: 'passkey',
    // RFC 8176 `pop`: a proof of possession of a key, hardware or software unspecified (the
    // method is static; which kind of key answered is in the passkey.used event).
    amr: ['pop', 'user'],
    parse: (proof) => parseBody(z.object({ passkey: authenticationCredential }), { passkey: proof }).passkey,
    verify: async (user, proof, rc, session) => {
      const assertion = await passkeys.verifyAssertion(
        'webauthn-step-up',
        proof as AuthenticationCredential,
        (challenge) => challenge.sessionId === session.sessionId && challenge.userId === user.id,
        rc,
        'invalid_credentials',
      );
      await ctx.kernel.recordEvent({
        type: 'passkey.used',
        userId: user.id,
        ip: rc.ip,
        sessionId: session.sessionId,
        userAgent: rc.userAgent,
        data: { passkeyId: assertion.passkey.id, purpose: 'step_up' },
      });
    },
  };
}
