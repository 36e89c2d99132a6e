import { base64url } from 'jose';
import { nodeCrypto, pooledRandomBytes, sha256Sync } from './node-crypto.js';

const encoder = new TextEncoder();

/** `bytes` of CSPRNG output, base64url-encoded (no padding). */
export function randomToken(bytes = 32): string {
  const pooled = pooledRandomBytes(bytes);
  if (pooled !== null) return pooled.toString('base64url');
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A random UUID (v4) from the platform CSPRNG. */
export function randomId(): string {
  return crypto.randomUUID();
}

/** SHA-256 of a UTF-8 string, base64url-encoded. */
export async function sha256(text: string): Promise<string> {
  const digest = sha256Sync(text);
  if (digest !== null) return digest;
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Constant-time comparison of two strings of any length (compares fixed-size digests). */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  if (nodeCrypto !== null) {
    const { createHash, timingSafeEqual } = nodeCrypto;
    return timingSafeEqual(
      createHash('sha256').update(a, 'utf8').digest(),
      createHash('sha256').update(b, 'utf8').digest(),
    );
  }
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
