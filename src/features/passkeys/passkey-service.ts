import type { CryptoKey } from 'jose';
import { type ErrorCode, TokenwardError } from '../../errors.js';
import { randomId, utf8 } from '../../kernel/crypto/encoding.js';
import type { Artifact, User } from '../../kernel/ports.js';
import type { RequestContext } from '../../kernel/request-context.js';
import type { ServerContext } from '../../server/context.js';
import { CHALLENGE_TTL_SEC, type ChallengeKind, newChallenge, redeemChallenge, storeChallenge } from './challenges.js';
import {
  type AuthenticationCredential,
  claimedChallenge,
  knownTransports,
  type RegistrationCredential,
} from './credential-json.js';
import type { PasskeysConfig } from './options.js';
import type { Passkey, PasskeyStore } from './store.js';
import { SUPPORTED_ALGORITHMS, webauthn } from './webauthn.js';

/** An account holds at most this many passkeys (each is a row and a line in every allowCredentials). */
export const MAX_PASSKEYS_PER_USER = 25;
/** The label of a passkey registered without a name. */
const DEFAULT_NAME = 'Passkey';

/** The user handle of an account (WebAuthn §5.4.3 `user.id`): its random id, never the email. */
export function userHandle(userId: string): string {
  return Buffer.from(utf8(userId)).toString('base64url');
}

/**
 * RFC 8176 methods a verified passkey assertion shows: `hwk` for a credential bound to one
 * authenticator (not backup-eligible: its key cannot leave the device), `swk` for a synced
 * passkey (the key is copied through a cloud keychain, so it is a software-held key as far as
 * the relying party can tell); `user` because user verification is required (a PIN or biometric
 * on the device — which one is not told); and `mfa`, since that is something held plus something
 * known or been. Attestation is not requested, so `hwk` is the authenticator's own claim.
 */
export function passkeyAmr(passkey: Pick<Passkey, 'deviceType'>): string[] {
  return [passkey.deviceType === 'multiDevice' ? 'swk' : 'hwk', 'user', 'mfa'];
}

/** The outcome of a verified assertion. */
export interface VerifiedAssertion {
  passkey: Passkey;
  /** The challenge record the assertion answered (its binding: user, session, data). */
  challenge: Artifact;
  amr: string[];
}

/**
 * Registration and assertion ceremonies (WebAuthn §7.1, §7.2) over the passkeys table and the
 * artifacts table, with `@simplewebauthn/server` doing the cryptographic checks.
 */
export class PasskeyService {
  readonly #ctx: ServerContext;
  readonly #config: PasskeysConfig;
  readonly #store: PasskeyStore;
  readonly #decoyKey: CryptoKey;

  constructor(ctx: ServerContext, config: PasskeysConfig, store: PasskeyStore, decoyKey: CryptoKey) {
    this.#ctx = ctx;
    this.#config = config;
    this.#store = store;
    this.#decoyKey = decoyKey;
  }

  get store(): PasskeyStore {
    return this.#store;
  }

  /**
   * Creation options (JSON form) for a new passkey of `user`, with a challenge bound to the
   * session that asked: user verification required, a discoverable credential preferred, the
   * account's passkeys excluded (no second registration of one authenticator).
   */
  async registrationOptions(user: User, sessionId: string, name: string | null): Promise<unknown> {
    const existing = await this.#store.listForUser(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER)
      throw new TokenwardError('invalid_request', {
        detail: `An account holds at most ${MAX_PASSKEYS_PER_USER} passkeys; delete one first.`,
      });
    const { generateRegistrationOptions } = await webauthn();
    const options = await generateRegistrationOptions({
      rpName: this.#config.rpName,
      rpID: this.#config.rpId,
      userName: user.email,
      userID: utf8(user.id),
      userDisplayName: user.name ?? user.email,
      challenge: newChallenge(),
      timeout: CHALLENGE_TTL_SEC * 1000,
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    await storeChallenge(this.#ctx, 'webauthn-register', options.challenge, {
      userId: user.id,
      sessionId,
      data: name === null ? null : { name },
    });
    return options;
  }

  /**
   * Verifies a registration response against a `webauthn-register` challenge of this session and
   * stores the passkey. Every failure is 400 `invalid_passkey`, nothing stored.
   */
  async register(
    user: User,
    sessionId: string,
    credential: RegistrationCredential,
    name: string | null,
  ): Promise<Passkey> {
    const invalid = (detail?: string) => new TokenwardError('invalid_passkey', detail ? { detail } : {});
    const challenge = claimedChallenge(credential.response.clientDataJSON);
    if (challenge === null) throw invalid();
    const record = await redeemChallenge(
      this.#ctx,
      'webauthn-register',
      challenge,
      (a) => a.sessionId === sessionId && a.userId === user.id,
    );
    if (record === null) throw invalid('The registration challenge is unknown, expired, used or not this session’s.');
    const { verifyRegistrationResponse } = await webauthn();
    let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
    try {
      const result = await verifyRegistrationResponse({
        response: {
          ...credential,
          authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
          clientExtensionResults: {},
        } as never,
        expectedChallenge: challenge,
        expectedOrigin: this.#config.origins,
        expectedRPID: this.#config.rpId,
        requireUserPresence: true,
        requireUserVerification: true,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
      info = result.verified ? result.registrationInfo : undefined;
    } catch {
      info = undefined;
    }
    // The id the client names must be the one the authenticator signed (§7.1 step 22 uses the latter).
    if (info === undefined || info.credential.id !== credential.id) throw invalid();
    if ((await this.#store.countForUser(user.id)) >= MAX_PASSKEYS_PER_USER) throw invalid('Too many passkeys.');
    const storedName = name ?? (typeof record.data?.name === 'string' ? record.data.name : null) ?? DEFAULT_NAME;
    const passkey: Passkey = {
      id: randomId(),
      userId: user.id,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: knownTransports(credential.response.transports),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
      name: storedName,
      createdAt: this.#ctx.clock.now(),
      lastUsedAt: null,
    };
    // §7.1 step 22: a credential id already registered (to anyone) is refused.
    if ((await this.#store.add(passkey)) === 'credential_taken') throw invalid('This passkey is already registered.');
    return passkey;
  }

  /**
   * Request options (JSON form) for an assertion, with a challenge of `kind` bound as given.
   * `allow` lists the credentials the browser may use (empty: any discoverable credential).
   */
  async requestOptions(
    kind: ChallengeKind,
    allow: ReadonlyArray<Pick<Passkey, 'credentialId' | 'transports'>>,
    binding: Pick<Artifact, 'userId' | 'sessionId' | 'data'>,
  ): Promise<unknown> {
    const { generateAuthenticationOptions } = await webauthn();
    const options = await generateAuthenticationOptions({
      rpID: this.#config.rpId,
      allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
      challenge: newChallenge(),
      timeout: CHALLENGE_TTL_SEC * 1000,
      userVerification: 'required',
    });
    await storeChallenge(this.#ctx, kind, options.challenge, binding);
    return options;
  }

  /**
   * Credentials shown for an email that has no passkey (or no account): one credential id derived
   * from the address with a server key, the same at every request. Sign-in options for an email
   * then look alike whether or not the account exists or has a passkey, and asking twice gives
   * the same answer (a random one each time would betray the decoy).
   */
  async decoyCredentials(email: string): Promise<Array<Pick<Passkey, 'credentialId' | 'transports'>>> {
    const mac = await crypto.subtle.sign('HMAC', this.#decoyKey, utf8(`passkey-decoy|${email}`));
    return [{ credentialId: Buffer.from(mac).toString('base64url'), transports: ['hybrid', 'internal'] }];
  }

  /**
   * Verifies an assertion (WebAuthn §7.2) against a challenge of `kind` that satisfies `bound`:
   * the challenge is redeemed once; the credential must be registered (to the challenge's user,
   * when it names one, and to the user handle the authenticator returned); origin, RP ID hash,
   * user presence and verification and the signature are checked by the library; finally the
   * signature counter must advance (else a cloned authenticator is suspected: refused, and
   * `passkey.clone_suspected` recorded). Any failure throws `failure` (nothing is said about which
   * check failed).
   */
  async verifyAssertion(
    kind: ChallengeKind,
    credential: AuthenticationCredential,
    bound: (challenge: Artifact) => boolean | Promise<boolean>,
    rc: RequestContext,
    failure: ErrorCode,
  ): Promise<VerifiedAssertion> {
    const fail = () => new TokenwardError(failure);
    const challenge = claimedChallenge(credential.response.clientDataJSON);
    if (challenge === null) throw fail();
    const record = await redeemChallenge(this.#ctx, kind, challenge, bound);
    if (record === null) throw fail();
    const passkey = await this.#store.findByCredentialId(credential.id);
    if (passkey === null) throw fail();
    // A challenge issued for one account (sign-in with an email, step-up, second step) is never
    // answered by another account's credential.
    if (record.userId !== null && record.userId !== passkey.userId) throw fail();
    if (record.data?.email === true && record.userId === null) throw fail();
    // §7.2 step 6: the user handle the authenticator returns must be the credential's owner's.
    if (credential.response.userHandle != null && credential.response.userHandle !== userHandle(passkey.userId))
      throw fail();
    const { verifyAuthenticationResponse } = await webauthn();
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>> | undefined;
    try {
      verified = await verifyAuthenticationResponse({
        response: {
          ...credential,
          response: { ...credential.response, userHandle: credential.response.userHandle ?? undefined },
          authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
          clientExtensionResults: {},
        } as never,
        expectedChallenge: challenge,
        expectedOrigin: this.#config.origins,
        expectedRPID: this.#config.rpId,
        // The counter is compared below, after the signature: the library would compare it first,
        // so a forged assertion with a low counter could raise a false clone alarm.
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
          counter: 0,
        },
        requireUserVerification: true,
      });
    } catch {
      verified = undefined;
    }
    if (verified === undefined || !verified.verified) throw fail();
    const { newCounter, credentialBackedUp } = verified.authenticationInfo;
    const now = this.#ctx.clock.now();
    if (!(await this.#store.recordUse(passkey.id, { counter: newCounter, backedUp: credentialBackedUp, at: now }))) {
      await this.#ctx.kernel.recordEvent({
        type: 'passkey.clone_suspected',
        userId: passkey.userId,
        ip: rc.ip,
        sessionId: record.sessionId,
        userAgent: rc.userAgent,
        data: { passkeyId: passkey.id, storedCounter: passkey.counter, presentedCounter: newCounter },
      });
      throw fail();
    }
    const used = { ...passkey, counter: newCounter, backedUp: credentialBackedUp, lastUsedAt: now };
    return { passkey: used, challenge: record, amr: passkeyAmr(used) };
  }
}
