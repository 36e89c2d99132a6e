/**
 * The internal contract of a capability (better-auth's plugin shape, oidc-provider's feature
 * flags). A feature is one folder under `src/features/<id>/`:
 *
 * - `index.ts` exports the {@link Feature} descriptor: light (zod, migrations), imported at start
 *   to assemble the configuration and the migrations, whatever is enabled;
 * - the rest of the folder is loaded lazily through `load()` only when `enabled`, so a disabled
 *   capability costs nothing and its libraries (openid-client, qrcode, …) are never imported.
 *
 * The contract stays internal: Tokenward promises secure defaults from one options object, not
 * third-party plugins.
 */
import type { Migration } from 'kysely';
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { KernelConfig } from '../kernel/config/kernel-config.js';
import type { LoginGate, SecondFactor, StepUpMethod } from '../kernel/login/factors.js';
import type { AuthEvent, Session, User } from '../kernel/ports.js';
import type { ServerContext } from '../server/context.js';
import type { AnyEndpoint } from '../server/define-endpoint.js';

/** Every capability Tokenward has (the order of `FEATURES` is the mount order). */
export type FeatureId =
  | 'mail'
  | 'operations'
  | 'session'
  | 'password'
  | 'sessions-ui'
  | 'step-up'
  | 'totp'
  | 'oidc-login'
  | 'dpop'
  | 'oauth-server'
  | 'passkeys'
  | 'browser-check'
  | 'email-verification'
  | 'password-reset'
  | 'magic-link'
  | 'account';

/** A feature's slice of the options: its key, schema, environment names and resolved form. */
export interface FeatureOptions<K extends string, S extends z.ZodType, R> {
  /** The top-level option key (`oidc` → `createTokenward({ oidc: {...} })`). */
  key: K;
  /** Validates what users pass (also the environment values, as text). */
  schema: S;
  /** Environment variable → option path (`TOKENWARD_OIDC_PROVIDERS` → `oidc.providers`). */
  env: Readonly<Record<string, string>>;
  /** Defaults and derived values: the resolved slice the feature reads as `config[key]`. */
  resolve(parsed: z.output<S> | undefined, kernel: KernelConfig): R;
}

/** What a feature adds to a running instance (returned by its `setup`). */
export interface FeatureInstance {
  /** Declarative endpoints, mounted in feature order; two claiming one route fail at start. */
  endpoints?: AnyEndpoint[];
  /** Second factors the login pipeline asks (TOTP, passkeys). */
  factors?: SecondFactor[];
  /** Ways to prove it is still the user for a step-up (password, TOTP code, passkey). */
  stepUpMethods?: StepUpMethod[];
  /** Rules every login passes before a session starts (email verified, MFA enrolled, …). */
  loginGates?: LoginGate[];
  /** Called (never awaited by the login) when a session starts on a device the user never used. */
  onNewDevice?(user: User, session: Session): void;
  /**
   * What the feature holds about a user, for the account export (`GET /auth/account/export`):
   * one top-level entry per feature (`{ passkeys: [...] }`), never a secret or key material.
   */
  exportAccount?(userId: string): Promise<Record<string, unknown>>;
  /**
   * Called with every audit event once it is stored (e.g. `user.signup`, whichever feature
   * created the account). Never awaited: it must not throw and must not block.
   */
  onEvent?(event: AuthEvent): void;
  /** Stops timers and releases what `setup` opened. */
  close?(): Promise<void>;
}

/** The lazily loaded part of a feature. */
export interface FeatureModule {
  setup(ctx: ServerContext): Promise<FeatureInstance> | FeatureInstance;
}

/** A capability: its descriptor (always loaded) and its module (loaded when enabled). */
export interface Feature {
  id: FeatureId;
  // biome-ignore lint/suspicious/noExplicitAny: each feature has its own slice type; the root config types them.
  options?: FeatureOptions<string, z.ZodType, any>;
  /** Whether the feature runs in this configuration (its slice is `config[options.key]`). */
  enabled(config: KernelConfig & Record<string, unknown>): boolean;
  /** The error codes it may raise (each must be in docs/api.md; a test checks). */
  errors: readonly ErrorCode[];
  /** Schema changes it needs; they always run, whatever is enabled (the schema never depends on config). */
  migrations?: Readonly<Record<string, Migration>>;
  load(): Promise<FeatureModule>;
}

/**
 * Declares a feature's options slice with its types inferred (key, schema, resolved form).
 *
 * @example
 * ```ts
 * options: defineOptions({ key: 'oidc', schema, env: { TOKENWARD_OIDC_PROVIDERS: 'oidc.providers' }, resolve }),
 * ```
 */
export function defineOptions<const K extends string, S extends z.ZodType, R>(
  options: FeatureOptions<K, S, R>,
): FeatureOptions<K, S, R> {
  return options;
}

/**
 * Declares a feature descriptor (typed, with its options slice kept precise for the root config).
 *
 * @example
 * ```ts
 * export const totpFeature = defineFeature({ id: 'totp', enabled: () => true, errors: ['invalid_code'], load: () => import('./module.js') });
 * ```
 */
export function defineFeature<const F extends Feature>(feature: F): F {
  return feature;
}
