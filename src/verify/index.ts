/**
 * `tokenward/verify`: an edge-safe verifier of Tokenward access tokens for other services.
 * No `node:*` imports: only `jose`, `fetch` and Web Crypto.
 *
 * @example
 * ```ts
 * import { createVerifier, VerifyError } from 'tokenward/verify';
 * const verifier = createVerifier({ issuer, audience, jwksUrl });
 * const claims = await verifier.verify(token);
 * ```
 */

export type { AccessTokenClaims, AccessTokenFailure, SigningAlgorithm } from '../kernel/tokens/access-token.js';
export { createVerifier, type VerifiedAccessToken, type Verifier, type VerifierOptions } from './create-verifier.js';
export type { FetchLike } from './fetch-json.js';
export { isVerifyError, VerifyError, type VerifyErrorCode, type VerifyErrorReason } from './verify-error.js';
