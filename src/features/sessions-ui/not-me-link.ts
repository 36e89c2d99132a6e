import { base64url, type CryptoKey } from 'jose';
import { utf8 } from '../../kernel/crypto/encoding.js';

/** `<sessionId>.<expiresAtSec>.<HMAC>`; the session id is a UUID. */
const TOKEN_SHAPE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

function message(sessionId: string, exp: string): Uint8Array<ArrayBuffer> {
  return utf8(`not-me|${sessionId}|${exp}`);
}

/**
 * Signs a "this wasn't me" token for a session (HMAC-SHA-256 with a purpose key derived from
 * the server secret). It names only the session, so it can go into an email link.
 *
 * @example
 * ```ts
 * const token = await signNotMeToken(key, session.id, session.absoluteExpiresAt);
 * ```
 */
export async function signNotMeToken(key: CryptoKey, sessionId: string, expiresAtMs: number): Promise<string> {
  const exp = String(Math.floor(expiresAtMs / 1000));
  const mac = await crypto.subtle.sign('HMAC', key, message(sessionId, exp));
  return `${sessionId}.${exp}.${base64url.encode(new Uint8Array(mac))}`;
}

/** The session id of a valid, unexpired token; null otherwise (HMAC verify is constant-time). */
export async function verifyNotMeToken(key: CryptoKey, token: string, nowMs: number): Promise<string | null> {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) return null;
  const [, sessionId = '', exp = '', mac = ''] = match;
  if (Number(exp) * 1000 <= nowMs) return null;
  let signature: Uint8Array<ArrayBuffer>;
  try {
    signature = new Uint8Array(base64url.decode(mac));
  } catch {
    return null;
  }
  return (await crypto.subtle.verify('HMAC', key, signature, message(sessionId, exp))) ? sessionId : null;
}
