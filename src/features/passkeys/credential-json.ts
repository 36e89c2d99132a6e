import { z } from 'zod';

/**
 * The JSON form of WebAuthn responses (`PublicKeyCredential.toJSON()`, WebAuthn L3 §5.1.8/§5.1.9),
 * checked before anything is decoded or counted: every binary field is unpadded base64url with a
 * bound on its length, so a hostile body is a 400 naming the field — never a 500, never a
 * library error on garbage. Unknown members are dropped (browsers add new ones over time).
 */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const b64u = (max: number) => z.string().max(max).regex(BASE64URL, { message: 'must be base64url' });

/** WebAuthn §6.1: a credential id is at most 1023 bytes (1364 base64url characters). */
const credentialId = b64u(1364);
const transports = z.array(z.string().regex(/^[a-z-]{1,32}$/, { message: 'must be transport names' })).max(16);
const attachment = z.enum(['platform', 'cross-platform']).nullish();

/** `navigator.credentials.create()` → `toJSON()` (WebAuthn L3 `RegistrationResponseJSON`). */
export const registrationCredential = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64u(8192),
    attestationObject: b64u(32768),
    transports: transports.optional(),
  }),
  authenticatorAttachment: attachment,
});

/** `navigator.credentials.get()` → `toJSON()` (WebAuthn L3 `AuthenticationResponseJSON`). */
export const authenticationCredential = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: b64u(8192),
    authenticatorData: b64u(8192),
    signature: b64u(2048),
    userHandle: b64u(128).nullish(),
  }),
  authenticatorAttachment: attachment,
});

export type RegistrationCredential = z.output<typeof registrationCredential>;
export type AuthenticationCredential = z.output<typeof authenticationCredential>;

/** The transports WebAuthn knows (§5.8.4); others are dropped rather than stored. */
const KNOWN_TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

/** The known transports of a registration, deduplicated. */
export function knownTransports(list: readonly string[] | undefined): string[] {
  return [...new Set((list ?? []).filter((t) => KNOWN_TRANSPORTS.has(t)))];
}

/**
 * The challenge a response claims to answer (`clientDataJSON.challenge`), read without trusting
 * anything else in it: the challenge names the server-side record (only its hash is stored)
 * whose kind, session and user then decide. Null when the client data is not a JSON object with
 * a base64url challenge of a plausible length.
 */
export function claimedChallenge(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    if (typeof data !== 'object' || data === null) return null;
    const challenge = (data as { challenge?: unknown }).challenge;
    return typeof challenge === 'string' &&
      challenge.length >= 16 &&
      challenge.length <= 128 &&
      BASE64URL.test(challenge)
      ? challenge
      : null;
  } catch {
    return null;
  }
}
