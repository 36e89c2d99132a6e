import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  jwtVerify,
} from 'jose';
import { sha256, utf8 } from '../../kernel/crypto/encoding.js';
import type { Clock, Limiter } from '../../kernel/ports.js';

/**
 * Proof signature algorithms accepted by default: asymmetric only (RFC 9449 §4.3 check 5: never
 * `none`, never a MAC). RSA keys under 2048 bits are refused by jose.
 */
export const DPOP_ALGORITHMS: readonly string[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
];

/** A proof longer than this is refused before any decoding (an RSA-4096 proof is < 2 KB). */
export const MAX_DPOP_PROOF_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** JWK members that only a private (or symmetric) key has (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const PUBLIC_KEY_TYPES = new Set(['EC', 'OKP', 'RSA']);
const MAX_JTI_LENGTH = 256;

/** Why a proof was refused: one value per rule of RFC 9449 §4.3 (tests assert these). */
export type DpopFailure =
  /** No `DPoP` header (but one was required). */
  | 'missing'
  /** More than one `DPoP` header (§4.3 check 1). */
  | 'multiple'
  /** Not a compact JWS, not decodable, or too large (§4.3 check 2). */
  | 'malformed'
  /** `typ` is not `dpop+jwt` (§4.3 check 4). */
  | 'typ'
  /** `alg` is not an accepted asymmetric algorithm (§4.3 check 5). */
  | 'alg'
  /** `jwk` missing, not a public key, or carries private members (§4.3 check 7). */
  | 'jwk'
  /** The signature does not verify with the embedded key (§4.3 check 6). */
  | 'signature'
  /** `jti`, `htm`, `htu` or `iat` missing or of the wrong type (§4.3 check 3). */
  | 'claims'
  /** `htm` is not the request method (§4.3 check 8). */
  | 'htm'
  /** `htu` is not the request URI without query and fragment (§4.3 check 9). */
  | 'htu'
  /** `iat` is outside the accepted window (§4.3 check 11). */
  | 'iat'
  /** `ath` is missing or is not the hash of the presented access token (§4.3 check 12, §7). */
  | 'ath'
  /** The server requires a nonce and the proof has none, or an unknown/stale one (§8). */
  | 'nonce'
  /** The proof key is not the key the token or session is bound to (§4.3 check 12, §5). */
  | 'key_mismatch'
  /** The `jti` was seen before within the window (§11.1). */
  | 'replay';

export type DpopResult = { ok: true; jkt: string } | { ok: false; reason: DpopFailure };

/** DPoP settings (RFC 9449). */
export interface DpopPolicy {
  /** Accepted proof algorithms (default {@link DPOP_ALGORITHMS}; symmetric ones are ignored). */
  algorithms?: readonly string[];
  /** Largest accepted difference between a proof's `iat` and the server clock, in seconds (default 60). */
  proofWindowSec?: number;
  /** Require a server-provided nonce in every proof (RFC 9449 §8; default false). */
  requireNonce?: boolean;
  /** Lifetime of a server nonce, in seconds (default 300; the previous one stays valid as long again). */
  nonceLifetimeSec?: number;
}

export interface DpopProofCheck {
  /** Value of the `DPoP` header(s) as the transport sees it; null when absent. */
  proof: string | null;
  /** Request method (`htm`). */
  method: string;
  /** The request URI as the client addressed it (`htu`; query and fragment are ignored). */
  url: string;
  /** On resource requests: the access token, whose hash must be in `ath`. */
  accessToken?: string;
  /** Thumbprint the proof key must have (the token's `cnf.jkt` or the session's binding). */
  expectedJkt?: string;
}

/**
 * Normalises an `htu` for comparison (RFC 9449 §4.3 check 9, RFC 3986 §6.2.2–6.2.3): case of
 * scheme and host, default port, dot segments; query and fragment removed. Null when not an
 * absolute http(s) URI.
 */
export function normalizeHtu(value: string): string | null {
  if (value.length > 4096) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  url.search = '';
  url.hash = '';
  return url.href;
}

/** `base64url(SHA-256(ASCII(access token)))`, the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): Promise<string> {
  return sha256(accessToken);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Verifies DPoP proofs (RFC 9449 §4.3) and issues server nonces (§8). `jti` replay protection
 * uses the shared {@link Limiter} (`claimOnce`), so with Redis a proof is single-use on every node.
 *
 * @example
 * ```ts
 * const dpop = new DpopVerifier({ limiter, clock, nonceKey });
 * const result = await dpop.verify({ proof: request.headers.get('dpop'), method: 'POST', url: 'https://app.example.com/auth/token' });
 * if (result.ok) bindTo(result.jkt);
 * ```
 */
export class DpopVerifier {
  readonly #limiter: Limiter;
  readonly #clock: Clock;
  readonly #nonceKey: CryptoKey;
  readonly #algorithms: string[];
  readonly #windowSec: number;
  readonly #requireNonce: boolean;
  readonly #nonceLifetimeSec: number;

  constructor(deps: { limiter: Limiter; clock: Clock; nonceKey: CryptoKey; policy?: DpopPolicy }) {
    const policy = deps.policy ?? {};
    this.#limiter = deps.limiter;
    this.#clock = deps.clock;
    this.#nonceKey = deps.nonceKey;
    this.#algorithms = (policy.algorithms ?? DPOP_ALGORITHMS).filter((alg) => DPOP_ALGORITHMS.includes(alg));
    this.#windowSec = policy.proofWindowSec ?? 60;
    this.#requireNonce = policy.requireNonce ?? false;
    this.#nonceLifetimeSec = policy.nonceLifetimeSec ?? 300;
    if (this.#algorithms.length === 0)
      throw new TypeError('dpop.algorithms must contain at least one asymmetric algorithm');
    if (!(this.#windowSec > 0 && this.#windowSec <= 600))
      throw new TypeError('dpop.proofWindowSec must be in (0, 600]');
    if (!(this.#nonceLifetimeSec >= 10)) throw new TypeError('dpop.nonceLifetimeSec must be at least 10');
  }

  /** Accepted algorithms, for `WWW-Authenticate: DPoP algs="…"` (RFC 9449 §7.1). */
  get algorithms(): readonly string[] {
    return this.#algorithms;
  }

  /** Whether proofs must carry a server nonce. */
  get requireNonce(): boolean {
    return this.#requireNonce;
  }

  /**
   * The current server nonce: `<period>.<HMAC>` — stateless, so every node that shares the
   * secret accepts it without a lookup. Valid for this period and the next.
   */
  async nonce(): Promise<string> {
    return this.#nonceFor(Math.floor(this.#clock.now() / 1000 / this.#nonceLifetimeSec));
  }

  async #nonceFor(period: number): Promise<string> {
    const label = period.toString(36);
    const mac = await crypto.subtle.sign('HMAC', this.#nonceKey, utf8(`dpop-nonce|${label}`));
    return `${label}.${base64url.encode(new Uint8Array(mac).slice(0, 18))}`;
  }

  async #isValidNonce(value: unknown): Promise<boolean> {
    if (typeof value !== 'string' || value.length > 64) return false;
    const period = Math.floor(this.#clock.now() / 1000 / this.#nonceLifetimeSec);
    for (const p of [period, period - 1]) {
      // Nonces are not secrets (they travel in response headers), so a plain comparison is fine.
      if (value === (await this.#nonceFor(p))) return true;
    }
    return false;
  }

  /** Verifies one proof against the request it came with. Never throws for bad input. */
  async verify(check: DpopProofCheck): Promise<DpopResult> {
    const fail = (reason: DpopFailure): DpopResult => ({ ok: false, reason });
    const { proof } = check;
    if (proof === null || proof === '') return fail('missing');
    // Headers joined by the transport ("a, b"): a compact JWS never contains "," or " ".
    if (proof.includes(',')) return fail('multiple');
    if (proof.length > MAX_DPOP_PROOF_LENGTH || !COMPACT_JWS.test(proof)) return fail('malformed');

    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(proof) as Record<string, unknown>;
    } catch {
      return fail('malformed');
    }
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') return fail('typ');
    if (typeof header.alg !== 'string' || !this.#algorithms.includes(header.alg)) return fail('alg');
    const jwk = header.jwk;
    if (!isRecord(jwk) || typeof jwk.kty !== 'string' || !PUBLIC_KEY_TYPES.has(jwk.kty)) return fail('jwk');
    // A proof that publishes its private key proves nothing (anyone can sign with it).
    if (PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(jwk, m))) return fail('jwk');

    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, {
        algorithms: this.#algorithms,
        typ: 'dpop+jwt',
        currentDate: new Date(this.#clock.now()),
      });
      payload = verified.payload as Record<string, unknown>;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return fail('signature');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_INVALID')
        return fail('claims');
      return fail('jwk');
    }

    const { jti, htm, htu, iat } = payload;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) return fail('claims');
    if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat))
      return fail('claims');
    if (htm !== check.method.toUpperCase()) return fail('htm');
    const expectedHtu = normalizeHtu(check.url);
    if (expectedHtu === null || normalizeHtu(htu) !== expectedHtu) return fail('htu');
    const nowSec = this.#clock.now() / 1000;
    if (Math.abs(nowSec - iat) > this.#windowSec) return fail('iat');
    if (check.accessToken !== undefined) {
      if (typeof payload.ath !== 'string' || payload.ath !== (await accessTokenHash(check.accessToken)))
        return fail('ath');
    }
    if (this.#requireNonce && !(await this.#isValidNonce(payload.nonce))) return fail('nonce');

    const jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256');
    if (check.expectedJkt !== undefined && jkt !== check.expectedJkt) return fail('key_mismatch');
    // Last, so that a proof refused for another reason does not burn its jti. Keyed by the key's
    // thumbprint: jti values only need to be unique per key (RFC 9449 §11.1).
    const seenFor = Math.ceil(this.#windowSec * 2) + 5;
    if (!(await this.#limiter.claimOnce(`dpop:jti:${jkt}:${await sha256(jti)}`, seenFor))) return fail('replay');
    return { ok: true, jkt };
  }
}
