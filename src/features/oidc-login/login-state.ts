import type { CryptoKey } from 'jose';
import { open, seal } from '../../kernel/crypto/seal.js';

/** How long a started OIDC login may take at the provider (API.md: `tw_oidc` Max-Age ≤ 600). */
export const OIDC_LOGIN_TTL_SEC = 600;

/** What the browser carries, sealed, from `…/login` to `…/callback` (the `tw_oidc` cookie). */
export interface OidcLoginState {
  /** The configured provider name the login was started for. */
  provider: string;
  /** OAuth `state`: the callback must present the same value (binds the response to this browser). */
  state: string;
  /** OIDC `nonce`: the ID token must carry the same value (binds the ID token to this login). */
  nonce: string;
  /** PKCE `code_verifier` (RFC 7636, S256): only this browser's login can redeem the code. */
  codeVerifier: string;
  /** Absolute same-origin URL to return to (validated by `parseReturnTo`). */
  returnTo: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Additional authenticated data: a value sealed for another purpose never opens as this. */
const AAD = 'tokenward:oidc-login';
/** A sealed state is ~2 KB at most (returnTo ≤ 1024); anything longer is not ours. */
const MAX_SEALED_LENGTH = 4096;

/**
 * Seals a login state for the `tw_oidc` cookie (AES-256-GCM with a key derived from the server
 * secret): the browser holds it but can neither read nor change it.
 *
 * @example
 * ```ts
 * const value = await sealLoginState(key, { provider: 'google', state, nonce, codeVerifier, returnTo, expiresAt });
 * ```
 */
export async function sealLoginState(key: CryptoKey, state: OidcLoginState): Promise<string> {
  return seal(key, JSON.stringify(state), AAD);
}

/**
 * Opens a `tw_oidc` cookie value; null when missing, malformed, forged or expired.
 *
 * @example
 * ```ts
 * const login = await openLoginState(key, readCookie(header, cookies.name('oidc')), clock.now());
 * ```
 */
export async function openLoginState(
  key: CryptoKey,
  value: string | null,
  now: number,
): Promise<OidcLoginState | null> {
  if (value === null || value.length > MAX_SEALED_LENGTH) return null;
  const text = await open(key, value, AAD);
  if (text === null) return null;
  try {
    const s = JSON.parse(text) as Partial<OidcLoginState>;
    const strings = [s.provider, s.state, s.nonce, s.codeVerifier, s.returnTo];
    if (!strings.every((v) => typeof v === 'string' && v.length > 0) || typeof s.expiresAt !== 'number') return null;
    if (s.expiresAt <= now) return null;
    return s as OidcLoginState;
  } catch {
    return null;
  }
}
