import { randomToken, sha256 } from '../../kernel/crypto/encoding.js';
import type { Artifact } from '../../kernel/ports.js';
import type { ServerContext } from '../../server/context.js';

/** The issue: challenges are single use and expire in 5 minutes. */
export const CHALLENGE_TTL_SEC = 300;

/**
 * What a challenge is for. A challenge of one kind never answers another: a sign-in assertion
 * cannot confirm a step-up, a step-up assertion cannot start a session.
 */
export type ChallengeKind = 'webauthn-register' | 'webauthn-login' | 'webauthn-step-up' | 'webauthn-second-factor';

/** A fresh challenge: 256 random bits (WebAuthn §13.4.3 asks for at least 16 bytes). */
export function newChallenge(): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Stores a challenge as an artifact: only its SHA-256, with what it is bound to (the user, the
 * session that asked, kind-specific `data`), expiring in 5 minutes.
 *
 * @example
 * ```ts
 * await storeChallenge(ctx, 'webauthn-step-up', options.challenge, { userId, sessionId, data: null });
 * ```
 */
export async function storeChallenge(
  ctx: Pick<ServerContext, 'artifacts' | 'clock'>,
  kind: ChallengeKind,
  challenge: string,
  binding: Pick<Artifact, 'userId' | 'sessionId' | 'data'>,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.artifacts.put({
    kind,
    hash: await sha256(challenge),
    ...binding,
    createdAt: now,
    expiresAt: now + CHALLENGE_TTL_SEC * 1000,
  });
}

/**
 * Redeems a challenge once: the record must exist with this kind and satisfy `bound` (its
 * session, user, browser); only then is it consumed, atomically (of any number of concurrent
 * redemptions on any node, exactly one gets it). A challenge presented by the wrong session is
 * not consumed, so an attacker replaying someone's challenge cannot burn it. Null: unknown,
 * another kind, bound elsewhere, expired or used.
 */
export async function redeemChallenge(
  ctx: Pick<ServerContext, 'artifacts' | 'clock'>,
  kind: ChallengeKind,
  challenge: string,
  bound: (artifact: Artifact) => boolean | Promise<boolean>,
): Promise<Artifact | null> {
  const hash = await sha256(challenge);
  const found = await ctx.artifacts.find(kind, hash);
  if (found === null || !(await bound(found))) return null;
  return ctx.artifacts.consume(kind, hash, ctx.clock.now());
}

/** The browser-binding value of a sign-in challenge (the `tw_wa` cookie): 256 random bits. */
export function newBrowserBinding(): string {
  return randomToken(32);
}
