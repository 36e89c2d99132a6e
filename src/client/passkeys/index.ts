/**
 * `tokenward/client/passkeys`: passkey helpers for the browser SDK, in their own entry so the
 * core SDK stays small. Built on the platform's WebAuthn JSON helpers
 * (`PublicKeyCredential.parseCreationOptionsFromJSON`, `parseRequestOptionsFromJSON`,
 * `credential.toJSON()`), with a small fallback where a browser lacks them. Like the core SDK it
 * never holds a token: a successful sign-in is HttpOnly cookies set by the server.
 *
 * @example
 * ```ts
 * import { createClient } from 'tokenward/client';
 * import { createPasskeys } from 'tokenward/client/passkeys';
 *
 * const client = createClient();
 * const passkeys = createPasskeys(client);
 * if (await passkeys.autofillSupported()) void passkeys.login({ autofill: true }); // fills on pick
 * ```
 * @packageDocumentation
 */
import { TokenwardClientError } from '../errors.js';
import type { MfaChallenge, SessionInfo, TokenwardClient } from '../types.js';

/**
 * A passkey of the signed-in user, as the server lists it (never key material).
 *
 * @example
 * ```ts
 * const passkey: Passkey = { id: '…', name: 'MacBook', createdAt: '2026-01-01T00:00:00Z', lastUsedAt: null, backedUp: true };
 * ```
 */
export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** A synced passkey (backed up by the platform's keychain). */
  backedUp: boolean;
}

/**
 * Options of {@link createPasskeys}.
 *
 * @example
 * ```ts
 * const options: PasskeyOptions = { basePath: '/auth' };
 * ```
 */
export interface PasskeyOptions {
  /** Where Tokenward's routes are mounted. Default `/auth` (use the same as `createClient`). */
  basePath?: string;
}

/**
 * What {@link createPasskeys} returns. Every method rejects with a `TokenwardClientError` for a
 * server refusal, and with the browser's `DOMException` when the user cancels
 * (`NotAllowedError`) or the authenticator refuses.
 *
 * @example
 * ```ts
 * const session = await passkeys.login(); // the browser's passkey chooser
 * ```
 */
export interface PasskeyClient {
  /** Whether this browser offers WebAuthn at all. */
  supported(): boolean;
  /** Whether passkeys can be offered in the username field's autofill (conditional mediation). */
  autofillSupported(): Promise<boolean>;
  /**
   * Adds a passkey to the signed-in account. Needs a fresh step-up (`client.stepUp`, or
   * {@link PasskeyClient.stepUp}): without one it rejects with `step_up_required`.
   */
  register(options?: { name?: string }): Promise<Passkey>;
  /**
   * Signs in with a passkey: with `email`, one of that account's passkeys; without, any passkey
   * of this site (a chooser). With `autofill: true` the request waits for the user to pick a
   * passkey in the autofill of an input with `autocomplete="username webauthn"`; abort it with
   * `signal` before starting another ceremony.
   */
  login(options?: { email?: string; autofill?: boolean; signal?: AbortSignal }): Promise<SessionInfo | MfaChallenge>;
  /** The second step of a password login (`{mfaRequired: true}`) with a passkey instead of a code. */
  loginSecondFactor(): Promise<SessionInfo>;
  /** A step-up with a passkey: the next guarded request (one) is authorised. */
  stepUp(): Promise<{ stepUpUntil: string }>;
  list(): Promise<Passkey[]>;
  rename(id: string, name: string): Promise<Passkey>;
  /** Deletes a passkey (needs a fresh step-up; `last_second_factor` when it is the last one under requireMfa). */
  remove(id: string): Promise<void>;
}

type Json = Record<string, unknown> & { challenge: string };
type Platform = typeof PublicKeyCredential & {
  parseCreationOptionsFromJSON?(json: unknown): PublicKeyCredentialCreationOptions;
  parseRequestOptionsFromJSON?(json: unknown): PublicKeyCredentialRequestOptions;
};

const bytes = (value: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(value.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const text = (value: ArrayBuffer | null | undefined): string | undefined =>
  value
    ? btoa(String.fromCharCode(...new Uint8Array(value)))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '')
    : undefined;
const ids = (list: unknown) =>
  (list as Array<{ id: string; type: 'public-key' }> | undefined)?.map((c) => ({ ...c, id: bytes(c.id) }));

/** `credential.toJSON()` (WebAuthn L3), or the same shape built by hand where it is missing. */
function toJson(credential: PublicKeyCredential): unknown {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response as AuthenticatorAttestationResponse & AuthenticatorAssertionResponse;
  return {
    id: credential.id,
    rawId: text(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: text(r.clientDataJSON),
      attestationObject: text(r.attestationObject),
      transports: r.getTransports?.(),
      authenticatorData: text(r.authenticatorData),
      signature: text(r.signature),
      userHandle: text(r.userHandle),
    },
  };
}

/**
 * Passkey helpers for a Tokenward browser client.
 *
 * @example
 * ```ts
 * const passkeys = createPasskeys(client);
 * await client.stepUp({ password });
 * await passkeys.register({ name: 'This laptop' });
 * ```
 */
export function createPasskeys(client: TokenwardClient, options: PasskeyOptions = {}): PasskeyClient {
  const base = options.basePath ?? '/auth';
  const platform = () => globalThis.PublicKeyCredential as Platform | undefined;

  const call = async <T>(path: string, method = 'POST', body?: unknown): Promise<T> => {
    const response = await client.fetch(
      base + path,
      body === undefined
        ? { method }
        : { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    );
    const data = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (!response.ok)
      throw new TokenwardClientError(
        response.status,
        data?.code ?? 'unknown',
        data?.detail ?? `HTTP ${response.status}`,
        Number(response.headers.get('Retry-After')) || undefined,
      );
    return data as T;
  };

  /** Options JSON → `navigator.credentials.get()` → the response JSON. */
  const assert = async (
    path: string,
    body?: unknown,
    mediation?: CredentialMediationRequirement,
    signal?: AbortSignal,
  ) => {
    const json = await call<Json>(path, 'POST', body);
    const publicKey =
      platform()?.parseRequestOptionsFromJSON?.(json) ??
      ({
        ...json,
        challenge: bytes(json.challenge),
        allowCredentials: ids(json.allowCredentials),
      } as unknown as PublicKeyCredentialRequestOptions);
    const credential = (await navigator.credentials.get({
      publicKey,
      ...(mediation ? { mediation } : {}),
      ...(signal ? { signal } : {}),
    })) as PublicKeyCredential;
    return toJson(credential);
  };

  return {
    supported: () => typeof platform() === 'function' && !!navigator.credentials,
    autofillSupported: async () => !!(await platform()?.isConditionalMediationAvailable?.()),
    async register(o = {}) {
      const json = await call<Json & { user: { id: string } }>('/passkeys/register/options', 'POST', o);
      const publicKey =
        platform()?.parseCreationOptionsFromJSON?.(json) ??
        ({
          ...json,
          challenge: bytes(json.challenge),
          user: { ...json.user, id: bytes(json.user.id) },
          excludeCredentials: ids(json.excludeCredentials),
        } as unknown as PublicKeyCredentialCreationOptions);
      const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      return (await call<{ passkey: Passkey }>('/passkeys/register', 'POST', { credential: toJson(credential) }))
        .passkey;
    },
    async login(o = {}) {
      const credential = await assert(
        '/passkeys/login/options',
        o.email ? { email: o.email } : {},
        o.autofill ? 'conditional' : undefined,
        o.signal,
      );
      return client.signIn('/passkeys/login', { credential });
    },
    loginSecondFactor: async () =>
      client.signIn<SessionInfo>('/login/passkey', { credential: await assert('/login/passkey/options') }),
    stepUp: async () => client.stepUp({ passkey: await assert('/step-up/passkey/options') }),
    list: async () => (await call<{ passkeys: Passkey[] }>('/passkeys', 'GET')).passkeys,
    rename: async (id, name) =>
      (await call<{ passkey: Passkey }>(`/passkeys/${encodeURIComponent(id)}`, 'PATCH', { name })).passkey,
    remove: (id) => call(`/passkeys/${encodeURIComponent(id)}`, 'DELETE'),
  };
}
