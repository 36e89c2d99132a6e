import { type CryptoKey, importJWK, type JWK } from 'jose';
import type { SigningAlgorithm, VerificationKey } from '../kernel/tokens/access-token.js';

/** A usable key of the issuer's JWKS, with the `kid` it is published under. */
export interface PublishedKey extends VerificationKey {
  kid: string;
}

/** Members that only a private or symmetric JWK has; a JWKS that carries them is misconfigured. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const MIN_RSA_BITS = 2048;
const MAX_KID_LENGTH = 128;

/** The one algorithm a key type can serve here (RFC 8725 §3.1: key and algorithm are bound). */
function algorithmFor(jwk: Record<string, unknown>): SigningAlgorithm | undefined {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'RSA') return 'RS256';
  return undefined;
}

/**
 * Imports one JWK of a JWKS as a verification key, or returns undefined when the key must not be
 * used: not a signing key (`use` ≠ `sig`, `key_ops` without `verify`), private or symmetric
 * material, a type that does not match an allowed algorithm (OKP Ed25519 → EdDSA, EC P-256 →
 * ES256, RSA ≥ 2048 bits → RS256), an `alg` member that disagrees, or no usable `kid`.
 * Only the public members are handed to the importer.
 *
 * @example
 * ```ts
 * const key = await importVerificationKey(jwk, ['EdDSA']);
 * if (key) keys.set(key.kid, key);
 * ```
 */
export async function importVerificationKey(
  jwk: unknown,
  allowed: readonly SigningAlgorithm[],
): Promise<PublishedKey | undefined> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
  const k = jwk as Record<string, unknown>;
  if (typeof k.kid !== 'string' || k.kid.length === 0 || k.kid.length > MAX_KID_LENGTH) return undefined;
  if (k.use !== undefined && k.use !== 'sig') return undefined;
  if (k.key_ops !== undefined && (!Array.isArray(k.key_ops) || !k.key_ops.includes('verify'))) return undefined;
  if (PRIVATE_MEMBERS.some((name) => k[name] !== undefined)) return undefined;
  const alg = algorithmFor(k);
  if (alg === undefined || !allowed.includes(alg)) return undefined;
  if (k.alg !== undefined && k.alg !== alg) return undefined;

  const publicJwk: JWK = { kty: k.kty as string };
  for (const name of ['crv', 'x', 'y', 'n', 'e'] as const) {
    const value = k[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') return undefined;
    publicJwk[name] = value;
  }
  let key: CryptoKey;
  try {
    const imported = await importJWK(publicJwk, alg);
    if (imported instanceof Uint8Array) return undefined;
    key = imported;
  } catch {
    return undefined;
  }
  if (key.type !== 'public') return undefined;
  if (alg === 'RS256') {
    const bits = (key.algorithm as { modulusLength?: number }).modulusLength;
    if (typeof bits !== 'number' || bits < MIN_RSA_BITS) return undefined;
  }
  return { kid: k.kid, alg, key };
}
