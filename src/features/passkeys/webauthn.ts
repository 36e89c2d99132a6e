/**
 * `@simplewebauthn/server`, loaded at the first passkey request: an instance whose users never
 * touch a passkey never imports it (nor its ASN.1 and X.509 dependencies), even with the feature on.
 */
type WebAuthnLibrary = typeof import('@simplewebauthn/server');

let library: Promise<WebAuthnLibrary> | undefined;

/** The WebAuthn library (imported once, on first use). */
export function webauthn(): Promise<WebAuthnLibrary> {
  library ??= import('@simplewebauthn/server');
  return library;
}

/**
 * COSE algorithms accepted for new credentials: Ed25519 (-8), ES256 (-7), RS256 (-257) — what
 * platform authenticators and security keys use (WebAuthn §5.4.3 recommends -8, -7 and -257).
 */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257];
