import { base64url, type CryptoKey } from 'jose';
import { utf8 } from './encoding.js';

/**
 * Authenticated encryption (AES-256-GCM, random 96-bit IV) for data at rest: private signing
 * keys, TOTP secrets, and the successor of a rotated refresh token.
 * Format: `v1.<iv>.<ciphertext+tag>` (base64url).
 */
export async function seal(key: CryptoKey, plaintext: string, additionalData = ''): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8(additionalData) }, key, utf8(plaintext));
  return `v1.${base64url.encode(iv)}.${base64url.encode(new Uint8Array(ct))}`;
}

/** Opens a value made by {@link seal}; null when it was tampered with or the key is wrong. */
export async function open(key: CryptoKey, sealed: string, additionalData = ''): Promise<string | null> {
  const parts = sealed.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  try {
    const iv = base64url.decode(parts[1] ?? '');
    const ct = base64url.decode(parts[2] ?? '');
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
