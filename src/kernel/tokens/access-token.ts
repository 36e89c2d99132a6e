import { type CryptoKey, decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** Signature algorithms Tokenward can sign with (asymmetric only). */
export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];

/** Compact JWS shape, checked before any decoding (API.md "Tokens"). */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Larger tokens are rejected without parsing. Ours are < 1 KB. */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;
/** The only protected header members we issue; anything else (jwk, jku, x5u, x5c, crit, …) is refused. */
const ALLOWED_HEADER_MEMBERS = new Set(['alg', 'typ', 'kid']);
/**
 * RFC 9068 §4: `typ` must be `at+jwt` or `application/at+jwt`. Media types compare
 * case-insensitively and RFC 7515 §4.1.9 lets the `application/` prefix be omitted, so both
 * spellings in any case are the same type (jose normalises the same way); any other value is a
 * different kind of JWT and is refused (RFC 8725 §3.11, explicit typing).
 */
const ACCESS_TOKEN_TYP = /^(?:application\/)?at\+jwt$/i;
/**
 * The last character of a canonical base64url segment carries no set padding bits (RFC 4648
 * §3.5). Without this check one signature has several spellings (JWS malleability), so the same
 * token would have several cache keys.
 */
const LAST_CHAR_2 = /[AQgw]$/; // length % 4 === 2: the last char holds 2 data bits
const LAST_CHAR_3 = /[AEIMQUYcgkosw048]$/; // length % 4 === 3: the last char holds 4 data bits

function isCanonicalBase64url(segment: string): boolean {
  switch (segment.length % 4) {
    case 0:
      return true;
    case 2:
      return LAST_CHAR_2.test(segment);
    case 3:
      return LAST_CHAR_3.test(segment);
    default:
      return false;
  }
}

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
  /**
   * RFC 9068 §2.2: the OAuth client the token was issued to. Every token Tokenward issues has
   * it; optional here only so that tokens issued before it was added still verify until they expire.
   */
  client_id?: string;
  cnf?: { jkt: string };
  /**
   * Present when the session may not use the application yet (`mfa_enrollment`: it must enrol
   * a second factor first; see sessions/session-restriction.ts). Guards refuse such tokens
   * except on the few routes that serve the restriction.
   */
  tw_restriction?: string;
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
  /**
   * Finds the key for a `kid` (the header's `alg` is passed too, for key sets where one `kid`
   * names keys of several types); undefined for unknown kids. Only called for tokens whose shape,
   * header and `alg` already passed. An error it throws propagates to the caller unchanged.
   */
  keyFor: (kid: string, alg: SigningAlgorithm) => VerificationKey | undefined | Promise<VerificationKey | undefined>;
  /** Current time in ms (finite). */
  now: number;
  /** Allowed clock skew in seconds for exp/nbf/iat (0 on the issuing server; finite, ≥ 0). */
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
  // A NaN clock or an infinite leeway would make every exp check pass: refuse the options instead.
  if (!Number.isFinite(options.now)) throw new RangeError('verifyAccessToken: now must be a finite number of ms');
  const skew = options.clockToleranceSec ?? 0;
  if (!Number.isFinite(skew) || skew < 0)
    throw new RangeError('verifyAccessToken: clockToleranceSec must be finite and >= 0');
  if (typeof token !== 'string') return { ok: false, reason: 'malformed' };
  if (token.length > (options.maxLength ?? MAX_ACCESS_TOKEN_LENGTH)) return { ok: false, reason: 'too_large' };
  if (!COMPACT_JWS.test(token)) return { ok: false, reason: 'malformed' };
  if (!token.split('.').every(isCanonicalBase64url)) return { ok: false, reason: 'malformed' };
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  for (const name of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(name)) return { ok: false, reason: 'header' };
  }
  if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYP.test(header.typ)) return { ok: false, reason: 'header' };
  const alg = header.alg;
  // Both lists must allow it: a JavaScript caller passing 'HS256' or 'none' in `algorithms`
  // still never gets HMAC-with-the-public-key or unsigned tokens accepted (RFC 8725 §3.1).
  if (
    typeof alg !== 'string' ||
    !SIGNING_ALGORITHMS.includes(alg as SigningAlgorithm) ||
    !options.algorithms.includes(alg as SigningAlgorithm)
  ) {
    return { ok: false, reason: 'algorithm' };
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128) return { ok: false, reason: 'unknown_key' };
  const entry = await options.keyFor(kid, alg as SigningAlgorithm);
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
      clockTolerance: skew,
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
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_INVALID')
      return { ok: false, reason: 'claims' };
    return { ok: false, reason: 'signature' };
  }
  const p = payload as Record<string, unknown>;
  const nowSec = options.now / 1000;
  if (
    !isNonEmptyString(p.sid) ||
    !isNonEmptyString(p.sub) ||
    !isNonEmptyString(p.jti) ||
    typeof p.auth_time !== 'number' ||
    !Number.isFinite(p.auth_time) ||
    !Array.isArray(p.amr) ||
    !p.amr.every((method) => typeof method === 'string') ||
    typeof p.iat !== 'number' ||
    p.iat > nowSec + skew
  ) {
    return { ok: false, reason: 'claims' };
  }
  if (
    p.cnf !== undefined &&
    (typeof p.cnf !== 'object' || p.cnf === null || typeof (p.cnf as { jkt?: unknown }).jkt !== 'string')
  ) {
    return { ok: false, reason: 'claims' };
  }
  if (p.client_id !== undefined && !isNonEmptyString(p.client_id)) return { ok: false, reason: 'claims' };
  if (p.tw_restriction !== undefined && !isNonEmptyString(p.tw_restriction)) return { ok: false, reason: 'claims' };
  return { ok: true, claims: payload as unknown as AccessTokenClaims };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
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
