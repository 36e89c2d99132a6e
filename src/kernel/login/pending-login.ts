import type { CryptoKey } from 'jose';
import { randomToken } from '../crypto/encoding.js';
import { open, seal } from '../crypto/seal.js';

/** A login whose password was right and whose second factor is still due (held in a sealed cookie). */
export interface PendingLogin {
  /** Random id: attempt counting and single use. */
  id: string;
  userId: string;
  /** Methods already proven (RFC 8176), e.g. `["pwd"]`. */
  amr: string[];
  expiresAt: number;
}

const AAD = 'tokenward:pending-login';

/**
 * Seals a pending login for the short-lived `tw_mfa` cookie.
 *
 * @example
 * ```ts
 * const { value } = await sealPendingLogin(key, user.id, ['pwd'], clock.now(), 300);
 * ```
 */
export async function sealPendingLogin(
  key: CryptoKey,
  userId: string,
  amr: string[],
  now: number,
  ttlSec: number,
): Promise<{ value: string; pending: PendingLogin }> {
  const pending: PendingLogin = { id: randomToken(18), userId, amr, expiresAt: now + ttlSec * 1000 };
  return { value: await seal(key, JSON.stringify(pending), AAD), pending };
}

/** Opens a pending-login cookie; null when malformed, forged or expired. */
export async function openPendingLogin(
  key: CryptoKey,
  value: string | null,
  now: number,
): Promise<PendingLogin | null> {
  if (value === null || value.length > 1024) return null;
  const text = await open(key, value, AAD);
  if (text === null) return null;
  try {
    const p = JSON.parse(text) as Partial<PendingLogin>;
    if (
      typeof p.id !== 'string' ||
      typeof p.userId !== 'string' ||
      typeof p.expiresAt !== 'number' ||
      !Array.isArray(p.amr)
    )
      return null;
    if (p.expiresAt <= now) return null;
    return {
      id: p.id,
      userId: p.userId,
      amr: p.amr.filter((m): m is string => typeof m === 'string'),
      expiresAt: p.expiresAt,
    };
  } catch {
    return null;
  }
}
