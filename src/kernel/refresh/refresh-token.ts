import { base64url, type CryptoKey } from 'jose';
import { keyObjectOf, nodeCrypto, pooledRandomBytes } from '../crypto/node-crypto.js';

/**
 * Refresh tokens (API.md "Tokens": opaque, ≥ 256 random bits, `twr_` prefix, stored only as a
 * hash). A token names its session and its generation under a MAC, so the store keeps one fixed
 * record per session — the current generation and the hash of the current token — however often
 * it rotates, and every earlier token of the session is still recognised (a MAC-valid token of an
 * older generation is reuse). Only the server can mint a MAC-valid token, so a forged token that
 * merely names a session can neither pass nor revoke it; a database dump holds hashes only.
 *
 * Layout (before base64url): version (1) · session id (16, the UUID's bytes) · generation (4,
 * big-endian) · secret (32 random bytes) · MAC (16: HMAC-SHA-256 of everything before, truncated).
 */
const VERSION = 2;
const SESSION_BYTES = 16;
const GENERATION_BYTES = 4;
const SECRET_BYTES = 32;
const MAC_BYTES = 16;
const BODY_BYTES = 1 + SESSION_BYTES + GENERATION_BYTES + SECRET_BYTES;
const TOKEN_BYTES = BODY_BYTES + MAC_BYTES;

/** Tokens minted since the constant-space format: `twr_` + 92 base64url characters. */
export const REFRESH_TOKEN_SHAPE = /^twr_[A-Za-z0-9_-]{92}$/;
/** Tokens minted before it (256 random bits): still accepted until their session rotates. */
export const LEGACY_REFRESH_TOKEN_SHAPE = /^twr_[A-Za-z0-9_-]{43}$/;

/** The largest generation a token can carry (a session that rotates every minute for 8,000 years). */
export const MAX_GENERATION = 0xffffffff;

/** What a refresh token says about itself, once its MAC is verified. */
export type ParsedRefreshToken = { kind: 'current'; sessionId: string; generation: number } | { kind: 'legacy' };

function uuidBytes(id: string): Uint8Array | null {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) return null;
  const out = new Uint8Array(SESSION_BYTES);
  for (let i = 0; i < SESSION_BYTES; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function uuidOf(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function mac(key: CryptoKey, body: Uint8Array): Promise<Uint8Array> {
  const object = keyObjectOf(key);
  if (object !== null && nodeCrypto !== null) {
    return new Uint8Array(nodeCrypto.createHmac('sha256', object).update(body).digest().subarray(0, MAC_BYTES));
  }
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, body as Uint8Array<ArrayBuffer>)).subarray(0, MAC_BYTES);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (nodeCrypto !== null) return a.length === b.length && nodeCrypto.timingSafeEqual(a, b);
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Mints the refresh token of a session's generation (fresh secret each time, so two tokens of one
 * generation — a retry after a lost response — differ).
 *
 * @example
 * ```ts
 * const token = await mintRefreshToken(key, session.id, 1);
 * ```
 */
export async function mintRefreshToken(key: CryptoKey, sessionId: string, generation: number): Promise<string> {
  const session = uuidBytes(sessionId);
  if (session === null) throw new TypeError('refresh tokens name a UUID session id');
  if (!Number.isInteger(generation) || generation < 0 || generation > MAX_GENERATION)
    throw new RangeError('refresh token generation out of range');
  const bytes = new Uint8Array(TOKEN_BYTES);
  bytes[0] = VERSION;
  bytes.set(session, 1);
  new DataView(bytes.buffer).setUint32(1 + SESSION_BYTES, generation);
  const secret = pooledRandomBytes(SECRET_BYTES) ?? crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  bytes.set(secret, 1 + SESSION_BYTES + GENERATION_BYTES);
  bytes.set(await mac(key, bytes.subarray(0, BODY_BYTES)), BODY_BYTES);
  return `twr_${base64url.encode(bytes)}`;
}

/**
 * Reads a presented refresh token: its session and generation when its MAC is valid, `legacy` for
 * a token of the earlier format (looked up by hash), null for anything else — before any store
 * access, so garbage and forgeries cost one HMAC.
 */
export async function parseRefreshToken(key: CryptoKey, token: string): Promise<ParsedRefreshToken | null> {
  if (LEGACY_REFRESH_TOKEN_SHAPE.test(token)) return { kind: 'legacy' };
  if (!REFRESH_TOKEN_SHAPE.test(token)) return null;
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(token.slice(4));
  } catch {
    return null;
  }
  if (bytes.length !== TOKEN_BYTES || bytes[0] !== VERSION) return null;
  if (!equalBytes(await mac(key, bytes.subarray(0, BODY_BYTES)), bytes.subarray(BODY_BYTES))) return null;
  return {
    kind: 'current',
    sessionId: uuidOf(bytes.subarray(1, 1 + SESSION_BYTES)),
    generation: new DataView(bytes.buffer, bytes.byteOffset).getUint32(1 + SESSION_BYTES),
  };
}
