import { base64url, type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** A client's DPoP key pair (what a native app keeps in its keychain). */
export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 thumbprint (`cnf.jkt`). */
  jkt: string;
}

export async function createDpopKey(alg: 'ES256' | 'EdDSA' | 'RS256' | 'PS256' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export interface ProofOptions {
  htm: string;
  htu: string;
  /** Seconds since the epoch (default: now). */
  iat?: number;
  jti?: string;
  /** Adds `ath` for this access token. */
  accessToken?: string;
  nonce?: string;
  /** Extra or overriding payload members (`undefined` removes one). */
  payload?: Record<string, unknown>;
  /** Extra or overriding protected header members (`undefined` removes one). */
  header?: Record<string, unknown>;
  /** Sign with this key instead (the header still carries `key.publicJwk` unless overridden). */
  signWith?: CryptoKey;
}

function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const out = { ...base, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete out[k];
  return out;
}

/** `base64url(SHA-256(token))`. */
export async function ath(token: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
}

/** A DPoP proof JWT (RFC 9449 §4.2), valid unless options break it. */
export async function createProof(key: DpopKey, options: ProofOptions): Promise<string> {
  const payload = withOverrides(
    {
      jti: options.jti ?? crypto.randomUUID(),
      htm: options.htm,
      htu: options.htu,
      iat: options.iat ?? Math.floor(Date.now() / 1000),
      ...(options.accessToken === undefined ? {} : { ath: await ath(options.accessToken) }),
      ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    },
    options.payload,
  );
  const header = withOverrides({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk }, options.header);
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(options.signWith ?? key.privateKey);
}

/** An unsigned (`alg: none`) proof. */
export function unsignedProof(key: DpopKey, payload: Record<string, unknown>): string {
  const enc = (v: unknown) => base64url.encode(new TextEncoder().encode(JSON.stringify(v)));
  return `${enc({ typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk })}.${enc(payload)}.`;
}

/** A proof MACed with HS256 (a symmetric "key" in the header). */
export async function hmacProof(payload: Record<string, unknown>): Promise<string> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: base64url.encode(secret) } } as {
      alg: string;
    })
    .sign(secret);
}
