import type { CryptoKey } from 'jose';
import { randomToken } from '../../kernel/crypto/encoding.js';
import { open, seal } from '../../kernel/crypto/seal.js';
import type { Limiter } from '../../kernel/ports.js';

/** A single-use proof of a fresh authentication, bound to one session (API.md "step-up grant"). */
export interface StepUpGrant {
  /** Random id; consuming the grant claims it once. */
  id: string;
  sessionId: string;
  /** When the user re-authenticated (ms). */
  authenticatedAt: number;
  expiresAt: number;
}

const AAD = 'tokenward:step-up-grant';

/**
 * Issues a grant as an opaque sealed value (AES-GCM): the browser cannot read, forge or
 * re-bind it to another session.
 *
 * @example
 * ```ts
 * const { value, grant } = await issueStepUpGrant(key, session.id, clock.now(), 300);
 * ```
 */
export async function issueStepUpGrant(
  key: CryptoKey,
  sessionId: string,
  now: number,
  ttlSec: number,
): Promise<{ value: string; grant: StepUpGrant }> {
  const grant: StepUpGrant = { id: randomToken(18), sessionId, authenticatedAt: now, expiresAt: now + ttlSec * 1000 };
  const value = await seal(
    key,
    JSON.stringify([grant.id, grant.sessionId, grant.authenticatedAt, grant.expiresAt]),
    AAD,
  );
  return { value, grant };
}

/** Opens a grant value; null when it is malformed, forged or sealed with another key. */
export async function openStepUpGrant(key: CryptoKey, value: string): Promise<StepUpGrant | null> {
  if (value.length > 512) return null;
  const text = await open(key, value, AAD);
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length !== 4) return null;
    const [id, sessionId, authenticatedAt, expiresAt] = parsed as unknown[];
    if (
      typeof id !== 'string' ||
      typeof sessionId !== 'string' ||
      typeof authenticatedAt !== 'number' ||
      typeof expiresAt !== 'number'
    )
      return null;
    return { id, sessionId, authenticatedAt, expiresAt };
  } catch {
    return null;
  }
}

export type StepUpVerdict = 'ok' | 'missing' | 'wrong_session' | 'expired' | 'too_old' | 'used';

/** The claim key of a grant in the shared limiter. */
function grantClaimKey(grant: StepUpGrant): string {
  return `stepup:grant:${grant.id}`;
}

/**
 * Checks a grant for a guarded request and, when it is good, claims it: the claim is atomic in
 * the limiter (Redis when configured), so of two racing requests exactly one gets `ok`. The claim
 * is not the end of the grant: API.md consumes a grant only with the first guarded request that
 * succeeds, so a request that fails gives its claim back with {@link releaseStepUpGrant}.
 */
export async function consumeStepUpGrant(
  limiter: Limiter,
  grant: StepUpGrant | null,
  request: { sessionId: string; now: number; maxAgeSec: number },
): Promise<StepUpVerdict> {
  if (grant === null) return 'missing';
  if (grant.sessionId !== request.sessionId) return 'wrong_session';
  if (grant.expiresAt <= request.now) return 'expired';
  if (request.now - grant.authenticatedAt > request.maxAgeSec * 1000) return 'too_old';
  const ttlSec = Math.max(1, Math.ceil((grant.expiresAt - request.now) / 1000) + 1);
  return (await limiter.claimOnce(grantClaimKey(grant), ttlSec)) ? 'ok' : 'used';
}

/** Gives back the claim of a grant whose guarded request did not succeed: the grant stays usable once. */
export async function releaseStepUpGrant(limiter: Limiter, grant: StepUpGrant): Promise<void> {
  await limiter.releaseClaim(grantClaimKey(grant));
}
