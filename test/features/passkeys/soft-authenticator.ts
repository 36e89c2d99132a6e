/**
 * A software WebAuthn authenticator for tests that must forge what a browser never would: a
 * wrong origin, a wrong RP ID hash, a missing UV flag, a counter that goes backwards, a replayed
 * assertion. It speaks the JSON forms of WebAuthn L3 (`toJSON()`), with `none` attestation and
 * ES256 keys, so its responses go through the same endpoints and checks as Chromium's.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64u = (bytes: Uint8Array | Buffer): string => Buffer.from(bytes).toString('base64url');
const u32 = (n: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
};
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

/** The JSON creation options the server sends (the parts used here). */
export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: Array<{ id: string }>;
  authenticatorSelection?: { userVerification?: string; residentKey?: string };
}

/** The JSON request options the server sends (the parts used here). */
export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string; transports?: string[] }>;
  userVerification?: string;
}

/** What a test may change in one ceremony. */
export interface Tamper {
  origin?: string;
  /** The RP ID whose hash goes into the authenticator data. */
  rpId?: string;
  challenge?: string;
  type?: string;
  userVerified?: boolean;
  userPresent?: boolean;
  /** The signature counter to report (default: the credential's next one). */
  counter?: number;
  /** The credential to use (default: the first allowed one this authenticator holds). */
  credentialId?: string;
  /** The user handle to report (null: none). */
  userHandle?: string | null;
  /** Sign with another key than the credential's. */
  wrongKey?: boolean;
}

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  userHandle: string;
  counter: number;
  rpId: string;
}

export interface SoftAuthenticatorOptions {
  origin: string;
  rpId: string;
  /** Performs user verification (PIN/biometric). Default true. */
  userVerification?: boolean;
  /** Backup-eligible (a synced passkey). Default false. */
  backupEligible?: boolean;
  /** Counter step per assertion (0: an authenticator without a counter). Default 1. */
  counterStep?: number;
  transports?: string[];
}

function coseKey(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  return isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, new Uint8Array(Buffer.from(jwk.x, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(jwk.y, 'base64url'))],
    ]),
  );
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  constructor(readonly options: SoftAuthenticatorOptions) {}

  #flags(t: Tamper, attested: boolean): number {
    let flags = 0;
    if (t.userPresent ?? true) flags |= 0x01;
    if (t.userVerified ?? this.options.userVerification ?? true) flags |= 0x04;
    if (this.options.backupEligible) flags |= 0x08 | 0x10;
    if (attested) flags |= 0x40;
    return flags;
  }

  #clientData(type: string, challenge: string, t: Tamper): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: t.type ?? type,
        challenge: t.challenge ?? challenge,
        origin: t.origin ?? this.options.origin,
        crossOrigin: false,
      }),
    );
  }

  /** `navigator.credentials.create()` + `toJSON()`. */
  create(options: CreationOptions, t: Tamper = {}): Record<string, unknown> {
    // `credentialId` names a credential this authenticator holds: register it again (same id and key).
    const existing = this.credentials.find((c) => c.id === t.credentialId);
    const { privateKey, publicKey } = existing ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = existing ? Buffer.from(existing.id, 'base64url') : randomBytes(16);
    const rpId = t.rpId ?? options.rp.id ?? this.options.rpId;
    const counter = t.counter ?? 0;
    const cose = coseKey(publicKey);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.#flags(t, true)]),
      u32(counter),
      Buffer.alloc(16), // AAGUID: zeros (no attestation)
      Buffer.from([0, id.length]),
      id,
      Buffer.from(cose),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    const clientDataJSON = this.#clientData('webauthn.create', options.challenge, t);
    if (!existing)
      this.credentials.push({
        id: b64u(id),
        privateKey,
        publicKey,
        userHandle: options.user.id,
        counter,
        rpId: options.rp.id ?? this.options.rpId,
      });
    return {
      id: b64u(id),
      rawId: b64u(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: this.options.transports ?? ['internal'],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** `navigator.credentials.get()` + `toJSON()`. */
  get(options: RequestOptions, t: Tamper = {}): Record<string, unknown> {
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const credential =
      this.credentials.find((c) => c.id === t.credentialId) ??
      this.credentials.find((c) => allowed.size === 0 || allowed.has(c.id));
    if (!credential) throw new Error('soft authenticator: no credential for these options');
    const rpId = t.rpId ?? options.rpId ?? credential.rpId;
    const step = this.options.counterStep ?? 1;
    const counter = t.counter ?? credential.counter + step;
    if (t.counter === undefined) credential.counter = counter;
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.#flags(t, false)]), u32(counter)]);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, t);
    const signingKey = t.wrongKey
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : credential.privateKey;
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), signingKey);
    const userHandle = t.userHandle === undefined ? credential.userHandle : t.userHandle;
    return {
      id: t.credentialId ?? credential.id,
      rawId: t.credentialId ?? credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }
}
