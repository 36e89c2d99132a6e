import { type CryptoKey, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';

/** Signature algorithms Tokenward can sign with (asymmetric only). */
export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];

/** Compact JWS shape, checked before any decoding (API.md "Tokens"). */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Larger tokens are rejected without parsing. Ours are < 1 KB. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
/** The only protected header members we issue; anything else (jwk, jku, x5u, x5c, crit, …) is refused. */
const ALLOWED_HEADER_MEMBERS = new Set(['alg', 'typ', 'kid']);

/** Claims of a Tokenward access token (RFC 9068 profile). */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  nbf?: number;
  auth_time: number;
  amr: string[];
  cnf?: { jkt: string };
}

export type AccessTokenFailure =
  | 'malformed'
  | 'too_large'
  | 'header'
  | 'algorithm'
  | 'unknown_key'
  | 'signature'
  | 'claims'
  | 'expired'
  | 'not_yet_valid';

export type AccessTokenResult = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: AccessTokenFailure };

/** A verification key of this issuer. */
export interface VerificationKey {
  alg: SigningAlgorithm;
  key: CryptoKey;
}

export interface VerifyAccessTokenOptions {
  issuer: string;
  audience: string;
  /** Allowed algorithms (never `none`, never HMAC). */
  algorithms: readonly SigningAlgorithm[];
  /** Finds the key for a `kid`; undefined for unknown kids. */
  keyFor: (kid: string) => VerificationKey | undefined | Promise<VerificationKey | undefined>;
  /** Current time in ms. */
  now: number;
  /** Allowed clock skew in seconds for exp/nbf/iat (0 on the issuing server). */
  clockToleranceSec?: number;
  maxLength?: number;
}

/**
 * Verifies an access token by the rules of API.md "Tokens" and RFC 8725/9068: compact shape,
 * size, a header of only `alg`/`typ`/`kid`, `typ: at+jwt`, an allowed asymmetric `alg`
 * matching the key, a known `kid`, the signature, and iss/aud/exp/nbf/iat plus the required
 * Tokenward claims.
 *
 * @example
 * ```ts
 * const r = await verifyAccessToken(token, { issuer, audience, algorithms: ['EdDSA'], keyFor, now: Date.now() });
 * if (r.ok) console.log(r.claims.sub);
 * ```
 */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<AccessTokenResult> {
  if (token.length > (options.maxLength ?? MAX_ACCESS_TOKEN_LENGTH)) return { ok: false, reason: 'too_large' };
  if (!COMPACT_JWS.test(token)) return { ok: false, reason: 'malformed' };
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  for (const name of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(name)) return { ok: false, reason: 'header' };
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'at+jwt') return { ok: false, reason: 'header' };
  const alg = header.alg;
  if (typeof alg !== 'string' || !options.algorithms.includes(alg as SigningAlgorithm)) {
    return { ok: false, reason: 'algorithm' };
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) return { ok: false, reason: 'unknown_key' };
  const entry = await options.keyFor(kid);
  if (entry === undefined) return { ok: false, reason: 'unknown_key' };
  if (entry.alg !== alg) return { ok: false, reason: 'algorithm' };

  let payload: JWTPayload;
  try {
    const result = await jwtVerify(token, entry.key, {
      algorithms: [entry.alg],
      issuer: options.issuer,
      audience: options.audience,
      typ: 'at+jwt',
      currentDate: new Date(options.now),
      clockTolerance: options.clockToleranceSec ?? 0,
      requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'exp'],
    });
    payload = result.payload;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') return { ok: false, reason: 'expired' };
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return { ok: false, reason: 'signature' };
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'nbf') {
      return { ok: false, reason: 'not_yet_valid' };
    }
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_INVALID') return { ok: false, reason: 'claims' };
    return { ok: false, reason: 'signature' };
  }
  const p = payload as Record<string, unknown>;
  const nowSec = options.now / 1000;
  const skew = options.clockToleranceSec ?? 0;
  if (
    typeof p.sid !== 'string' ||
    typeof p.sub !== 'string' ||
    typeof p.jti !== 'string' ||
    typeof p.auth_time !== 'number' ||
    !Array.isArray(p.amr) ||
    typeof p.iat !== 'number' ||
    p.iat > nowSec + skew
  ) {
    return { ok: false, reason: 'claims' };
  }
  if (p.cnf !== undefined && (typeof p.cnf !== 'object' || p.cnf === null || typeof (p.cnf as { jkt?: unknown }).jkt !== 'string')) {
    return { ok: false, reason: 'claims' };
  }
  return { ok: true, claims: payload as unknown as AccessTokenClaims };
}

/** The private half used for signing. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  key: CryptoKey;
}

/**
 * Signs an access token: header `{alg, typ: "at+jwt", kid}`.
 *
 * @example
 * ```ts
 * const jwt = await signAccessToken(claims, signingKey);
 * ```
 */
export async function signAccessToken(claims: AccessTokenClaims, signingKey: SigningKey): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: signingKey.alg, typ: 'at+jwt', kid: signingKey.kid })
    .sign(signingKey.key);
}
