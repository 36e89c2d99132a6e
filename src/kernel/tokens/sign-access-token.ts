import { keyObjectOf, nodeCrypto } from '../crypto/node-crypto.js';
import { type AccessTokenClaims, type SigningKey, signAccessToken } from './access-token.js';

/**
 * {@link signAccessToken} for the issuing server: the same compact JWS jose builds (header
 * `{alg, typ: "at+jwt", kid}`, then the claims), signed in place with node:crypto where the
 * runtime has it. A Web Crypto sign is a thread-pool round trip costing ≈ 3× the signature itself
 * in event-loop time on the refresh path (bench/README.md). Kept apart from access-token.ts,
 * which `tokenward/verify` imports and which must stay free of Node APIs.
 *
 * @example
 * ```ts
 * const jwt = await signAccessTokenFast(claims, keys.current());
 * ```
 */
export async function signAccessTokenFast(claims: AccessTokenClaims, signingKey: SigningKey): Promise<string> {
  const nodeKey = keyObjectOf(signingKey.key);
  if (nodeKey === null) return signAccessToken(claims, signingKey);
  const { sign } = nodeCrypto as NonNullable<typeof nodeCrypto>;
  const header = Buffer.from(JSON.stringify({ alg: signingKey.alg, typ: 'at+jwt', kid: signingKey.kid })).toString(
    'base64url',
  );
  const input = Buffer.from(`${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`);
  // EdDSA: Ed25519 (no digest); ES256: raw r‖s (JWS), not DER; RS256: PKCS#1 v1.5.
  const signature =
    signingKey.alg === 'EdDSA'
      ? sign(null, input, nodeKey)
      : sign('sha256', input, signingKey.alg === 'ES256' ? { key: nodeKey, dsaEncoding: 'ieee-p1363' } : nodeKey);
  return `${input.toString('latin1')}.${signature.toString('base64url')}`;
}
