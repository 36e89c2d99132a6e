import { base64url, type CryptoKey } from 'jose';
import { utf8 } from './encoding.js';
import { keyObjectOf, nodeCrypto, pooledRandomBytes } from './node-crypto.js';

type NodeKey = Parameters<NonNullable<typeof nodeCrypto>['createCipheriv']>[1];

/** AES-256-GCM in place with node:crypto (no thread-pool round trip); same format as Web Crypto's output. */
function sealNode(key: NodeKey, plaintext: string, additionalData: string): string {
  const crypto = nodeCrypto as NonNullable<typeof nodeCrypto>;
  const iv = pooledRandomBytes(12) ?? crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(utf8(additionalData));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${iv.toString('base64url')}.${ct.toString('base64url')}`;
}

function openNode(key: NodeKey, iv: Uint8Array, ct: Uint8Array, additionalData: string): string | null {
  const crypto = nodeCrypto as NonNullable<typeof nodeCrypto>;
  if (iv.length !== 12 || ct.length < 16) return null;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(utf8(additionalData));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

const EMPTY_SALT = new Uint8Array(32); // RFC 5869 §2.2: no salt = HashLen zero bytes

/**
 * HKDF-SHA-256 with an empty salt: the raw bytes of the key {@link deriveSealKey} makes. For one
 * 32-byte block, OKM = T(1) = HMAC(PRK, info ‖ 0x01) with PRK = HMAC(salt, IKM) (RFC 5869 §2.2,
 * §2.3): two HMACs, ≈ 3× faster than `hkdfSync`.
 */
function hkdfNode(ikm: string, purpose: string): Buffer {
  const { createHmac } = nodeCrypto as NonNullable<typeof nodeCrypto>;
  const prk = createHmac('sha256', EMPTY_SALT).update(ikm, 'utf8').digest();
  return createHmac('sha256', prk).update(`tokenward:${purpose}\x01`, 'utf8').digest();
}

/**
 * Authenticated encryption (AES-256-GCM, random 96-bit IV) for data at rest: private signing
 * keys, TOTP secrets, and the successor of a rotated refresh token.
 * Format: `v1.<iv>.<ciphertext+tag>` (base64url).
 */
export async function seal(key: CryptoKey, plaintext: string, additionalData = ''): Promise<string> {
  const nodeKey = keyObjectOf(key);
  if (nodeKey !== null) return sealNode(nodeKey, plaintext, additionalData);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(additionalData) },
    key,
    utf8(plaintext),
  );
  return `v1.${base64url.encode(iv)}.${base64url.encode(new Uint8Array(ct))}`;
}

/** Opens a value made by {@link seal}; null when it was tampered with or the key is wrong. */
export async function open(key: CryptoKey, sealed: string, additionalData = ''): Promise<string | null> {
  const parts = sealed.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  try {
    const iv = base64url.decode(parts[1] ?? '');
    const ct = base64url.decode(parts[2] ?? '');
    const nodeKey = keyObjectOf(key);
    if (nodeKey !== null) return openNode(nodeKey, iv, ct, additionalData);
    const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: utf8(additionalData) }, key, ct);
    return new TextDecoder().decode(pt);
  } catch {
    return null;
  }
}

/** Derives a purpose-bound AES-256-GCM key from high-entropy input keying material (HKDF-SHA-256). */
export async function deriveSealKey(ikm: string, purpose: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', utf8(ikm), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(`tokenward:${purpose}`) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Derives a purpose-bound HMAC-SHA-256 key from the server secret. */
export async function deriveHmacKey(secret: string, purpose: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(`tokenward:${purpose}`) },
    base,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign', 'verify'],
  );
}

/**
 * {@link seal} under `deriveSealKey(ikm, purpose)`, for keys used once (the refresh successor is
 * sealed under a key derived from the presented token): on Node, no Web Crypto round trips.
 */
export async function sealUnder(ikm: string, purpose: string, plaintext: string): Promise<string> {
  if (nodeCrypto !== null) return sealNode(hkdfNode(ikm, purpose), plaintext, '');
  return seal(await deriveSealKey(ikm, purpose), plaintext);
}

/** {@link open} for a value made by {@link sealUnder} with the same `ikm` and `purpose`. */
export async function openUnder(ikm: string, purpose: string, sealed: string): Promise<string | null> {
  if (nodeCrypto === null) return open(await deriveSealKey(ikm, purpose), sealed);
  const parts = sealed.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  try {
    return openNode(hkdfNode(ikm, purpose), base64url.decode(parts[1] ?? ''), base64url.decode(parts[2] ?? ''), '');
  } catch {
    return null;
  }
}
