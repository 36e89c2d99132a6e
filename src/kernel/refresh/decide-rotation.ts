import { constantTimeEqual } from '../crypto/constant-time.js';
import type { Session } from '../ports.js';
import { isSessionLive } from '../sessions/is-session-live.js';

/**
 * A session's refresh state: constant space, however often it rotates (API.md "Tokens").
 * `generation` and `hash` name the current token; the rest describe the rotation that made it.
 */
export interface RefreshState {
  /** Generation of the current token (0: a session started before the constant-space format). */
  generation: number;
  /** SHA-256 of the current token (null only for a session whose legacy token is no longer stored). */
  hash: string | null;
  /** SHA-256 of the token whose presentation made the current one (null: issued at login). */
  previousHash: string | null;
  /** When the current token was issued by a rotation (null: issued at login). */
  rotatedAt: number | null;
  /** Digest of the device (device cookie or DPoP key) that presented the previous token. */
  rotatedBy: string | null;
  /** The current token sealed under a key derived from the previous one (only its holder reads it back). */
  successorSealed: string | null;
  /**
   * The rotation before that one (the same four facts, one generation earlier), kept so that a
   * tab of the same browser whose request was overtaken by two rotations still gets its graced
   * successor within the window instead of a false reuse.
   */
  older: { hash: string | null; rotatedAt: number | null; rotatedBy: string | null; successorSealed: string | null };
}

/** What the presenter of a refresh token brings. */
export interface Presentation {
  /** The generation the token names (verified by its MAC; 0 for a legacy token). */
  generation: number;
  /** SHA-256 of the presented token. */
  hash: string;
  /** Digest of the presenting device (null: none — it gets no grace and no retry). */
  presenter: string | null;
  /** The DPoP key of the request's verified proof (null: no proof). A bound session needs its key. */
  proofJkt: string | null;
  now: number;
  graceMs: number;
}

/** The rotation rule's verdict. */
export type RotationDecision =
  /** Rotate: the successor (generation + 1) replaces the current token. */
  | { kind: 'rotate'; retry: boolean }
  /** Racing tabs: the previous rotation's successor, for its holder to open. */
  | { kind: 'grace'; successorSealed: string }
  /** Theft (or a stale copy): revoke the session. */
  | { kind: 'reused' }
  /** The session is revoked, idle-expired or past its absolute lifetime. */
  | { kind: 'expired' }
  /** Bound to another key than the request's proof (nothing changes). */
  | { kind: 'binding_mismatch' }
  /** Nothing this store issued (cannot happen for a MAC-valid token unless the database went back in time). */
  | { kind: 'invalid' };

/**
 * The rotation rule, in one place (the memory, SQLite and PostgreSQL stores all call it inside
 * the transaction that applies it):
 *
 * 1. a dead session rotates nothing;
 * 2. the current token rotates — for a DPoP-bound session only with its key's proof (RFC 9449 §5:
 *    no downgrade; refused, nothing changes); a token of the current generation with another hash
 *    is a superseded successor (a retry replaced it) and counts as reuse;
 * 3. the previous token (its generation and its hash), from the device that rotated it (its
 *    device cookie, or its DPoP key): within the grace window the same successor (racing tabs);
 *    after it, a retry after a lost response — rotate again (the unused successor is superseded).
 *    Its successor has never been used, or the generation would have moved on;
 *    The token before that one, from the device that rotated it, within its grace window: its own
 *    graced successor (racing tabs whose requests were overtaken by two rotations);
 * 4. any other earlier token — the previous one from any other device or without a device
 *    identity, or an older one from anywhere: reuse (API.md "Tokens").
 *
 * @example
 * ```ts
 * const decision = decideRotation(session, state, { generation, hash, presenter, proofJkt, now, graceMs });
 * ```
 */
export function decideRotation(session: Session, state: RefreshState, p: Presentation): RotationDecision {
  if (!isSessionLive(session, p.now)) return { kind: 'expired' };
  if (p.generation > state.generation) return { kind: 'invalid' };
  const bindingHolds = session.dpopJkt === null || session.dpopJkt === p.proofJkt;
  if (p.generation === state.generation) {
    if (state.hash === null) return { kind: 'invalid' };
    if (!constantTimeEqual(state.hash, p.hash)) return { kind: 'reused' };
    return bindingHolds ? { kind: 'rotate', retry: false } : { kind: 'binding_mismatch' };
  }
  if (
    p.generation === state.generation - 1 &&
    constantTimeEqual(state.previousHash, p.hash) &&
    constantTimeEqual(state.rotatedBy, p.presenter)
  ) {
    if (!bindingHolds) return { kind: 'binding_mismatch' };
    if (state.rotatedAt !== null && state.successorSealed !== null && p.now < state.rotatedAt + p.graceMs) {
      return { kind: 'grace', successorSealed: state.successorSealed };
    }
    return { kind: 'rotate', retry: true };
  }
  const { older } = state;
  if (
    p.generation === state.generation - 2 &&
    constantTimeEqual(older.hash, p.hash) &&
    constantTimeEqual(older.rotatedBy, p.presenter) &&
    older.rotatedAt !== null &&
    older.successorSealed !== null &&
    p.now < older.rotatedAt + p.graceMs
  ) {
    return bindingHolds ? { kind: 'grace', successorSealed: older.successorSealed } : { kind: 'binding_mismatch' };
  }
  return { kind: 'reused' };
}
