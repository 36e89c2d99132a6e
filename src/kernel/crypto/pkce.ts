import { base64url } from 'jose';

/** RFC 7636 §4.1: a code verifier is 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
export const PKCE_VERIFIER_SHAPE = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * The RFC 7636 §4.2 `S256` code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))).
 *
 * @example
 * ```ts
 * await pkceChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'); // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 * ```
 */
export async function pkceChallengeS256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}
