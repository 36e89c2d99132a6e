import { base64url, type CryptoKey } from 'jose';
import { randomToken, utf8 } from './crypto/encoding.js';
import { keyObjectOf, nodeCrypto } from './crypto/node-crypto.js';

/** HMAC-SHA-256 in place where node:crypto is available (no thread-pool round trip), else null. */
function hmacNode(key: CryptoKey, message: string): Buffer | null {
  const nodeKey = keyObjectOf(key);
  return nodeKey === null
    ? null
    : (nodeCrypto as NonNullable<typeof nodeCrypto>).createHmac('sha256', nodeKey).update(message, 'utf8').digest();
}

/** What the CSRF rule needs to know about a request (API.md "CSRF rule"). */
export interface CsrfRequest {
  method: string;
  secFetchSite: string | null;
  origin: string | null;
  /** `X-CSRF-Token` header. */
  headerToken: string | null;
  /** Value of the CSRF cookie. */
  cookieToken: string | null;
  /** Session id the request is authenticated with, or null for login/signup. */
  sessionId: string | null;
}

export interface CsrfPolicy {
  publicOrigin: string;
  trustedOrigins: readonly string[];
}

export type CsrfVerdict = 'pass' | 'double-submit' | 'reject';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for methods the CSRF rule applies to. */
export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/**
 * Layers 1 and 2 of the rule: Fetch Metadata, then Origin. Returns 'double-submit' when the
 * request has neither header (old browsers): the caller then checks the signed token (layer 3).
 */
export function csrfVerdict(request: Pick<CsrfRequest, 'secFetchSite' | 'origin'>, policy: CsrfPolicy): CsrfVerdict {
  const site = request.secFetchSite?.toLowerCase() ?? null;
  const origin = request.origin;
  if (site !== null) {
    if (site === 'same-origin' || site === 'none') return 'pass';
    if ((site === 'same-site' || site === 'cross-site') && origin !== null && policy.trustedOrigins.includes(origin))
      return 'pass';
    return 'reject';
  }
  if (origin !== null) {
    return origin === policy.publicOrigin || policy.trustedOrigins.includes(origin) ? 'pass' : 'reject';
  }
  return 'double-submit';
}

/** Binding used for tokens issued before login (login CSRF protection). */
export const ANONYMOUS_BINDING = '-';

/**
 * Signed double-submit token: `<nonce>.<expiresAtSec>.<HMAC(secret, binding|nonce|expires)>`.
 * Bound to a session id (or {@link ANONYMOUS_BINDING}), so a token planted by an attacker for
 * another session does not verify.
 */
export async function createCsrfToken(key: CryptoKey, binding: string, expiresAtMs: number): Promise<string> {
  const nonce = randomToken(16);
  const exp = Math.floor(expiresAtMs / 1000);
  const message = `${binding}|${nonce}|${exp}`;
  const mac = hmacNode(key, message) ?? new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(message)));
  return `${nonce}.${exp}.${base64url.encode(mac)}`;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{22}\.\d{1,12}\.[A-Za-z0-9_-]{43}$/;

/** Verifies a double-submit token (HMAC verify is constant-time). */
export async function verifyCsrfToken(key: CryptoKey, token: string, binding: string, nowMs: number): Promise<boolean> {
  if (!TOKEN_SHAPE.test(token)) return false;
  const [nonce, expText, macText] = token.split('.') as [string, string, string];
  if (Number(expText) * 1000 <= nowMs) return false;
  let mac: Uint8Array<ArrayBuffer>;
  try {
    mac = new Uint8Array(base64url.decode(macText));
  } catch {
    return false;
  }
  const message = `${binding}|${nonce}|${expText}`;
  const expected = hmacNode(key, message);
  if (expected !== null)
    return (
      mac.length === expected.length && (nodeCrypto as NonNullable<typeof nodeCrypto>).timingSafeEqual(mac, expected)
    );
  return crypto.subtle.verify('HMAC', key, mac, utf8(message));
}

/** Layer 3: header token equals cookie token, and it verifies for this binding. */
export async function checkDoubleSubmit(
  key: CryptoKey,
  request: Pick<CsrfRequest, 'headerToken' | 'cookieToken' | 'sessionId'>,
  nowMs: number,
): Promise<boolean> {
  const { headerToken, cookieToken } = request;
  if (!headerToken || !cookieToken || headerToken.length !== cookieToken.length) return false;
  // Both values are checked by HMAC; equality of the two strings is then not secret.
  if (headerToken !== cookieToken) return false;
  return verifyCsrfToken(key, headerToken, request.sessionId ?? ANONYMOUS_BINDING, nowMs);
}
