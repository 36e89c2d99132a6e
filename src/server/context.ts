import type { Context } from 'hono';
import type { CryptoKey } from 'jose';
import type { Logger } from 'pino';
import type { KernelConfig } from '../kernel/config/kernel-config.js';
import type { Kernel } from '../kernel/kernel.js';
import type { KeyRing } from '../kernel/keys/key-ring.js';
import type { StepUpMethod } from '../kernel/login/factors.js';
import type { ArtifactStore, Clock, Limiter, RevocationBus, Store } from '../kernel/ports.js';
import type { NewDeviceHook } from '../kernel/sessions/new-device-alert.js';
import type { SessionActivity } from '../kernel/sessions/session-activity.js';
import type { AccessTokenClaims } from '../kernel/tokens/access-token.js';
import type { CookieJar } from './cookies.js';
import type { Metrics } from './metrics.js';

/** A DPoP proof check (RFC 9449), provided by the dpop feature. */
export interface ProofVerifier {
  /** Signature algorithms accepted in proofs (the `algs` of a `DPoP` challenge). */
  readonly algorithms: readonly string[];
  /** Whether proofs must carry a server nonce. */
  readonly requireNonce: boolean;
  verify(input: {
    proof: string | null;
    method: string;
    url: string;
    accessToken?: string;
    expectedJkt?: string;
  }): Promise<{ ok: true; jkt: string } | { ok: false; reason: string }>;
  /** A fresh server nonce (the `DPoP-Nonce` header). */
  nonce(): Promise<string>;
}

/**
 * A step-up grant held for one guarded request: kept (consumed) when the request succeeds, given
 * back when it fails, so a request that fails (a 400, a 500, a refused precondition) never costs
 * the user their step-up (API.md: "consumed by the first guarded request that succeeds").
 */
export interface StepUpClaim {
  /** Settles the claim with the guarded request's outcome: a 2xx keeps the grant consumed, anything else releases it. */
  settle(succeeded: boolean): Promise<void>;
  /** The deletion of the grant cookie, for a response that consumed it. */
  readonly clearCookie: string;
}

/** Step-up grants (provided by the step-up feature). */
export interface StepUpGuard {
  /**
   * Claims the request's grant for this session, atomically, or throws 401 `step_up_required`
   * with the RFC 9470 challenge. Of two concurrent requests with one grant, exactly one holds it.
   */
  claim(c: Context<TokenwardEnv>, session: SessionInfo, maxAgeSec: number): Promise<StepUpClaim>;
}

/**
 * The mails Tokenward sends (API.md "Mail"), each with its own template (subject, text, HTML) that
 * an application may override: links to confirm an address, reset a password, sign in or confirm
 * an email change; the notice to the old address of an email change; the new-device alert.
 */
export type MailTemplateId =
  | 'verify-email'
  | 'reset-password'
  | 'magic-link'
  | 'confirm-email-change'
  | 'email-change-notice'
  | 'new-device';

/** A mail to queue (see {@link MailSender}). */
export interface MailRequest {
  template: MailTemplateId;
  /** The recipient's address. */
  to: string;
  /** Values of the template's variables (`link`, `email`, …); `productName` is added by the mail feature. */
  variables: Readonly<Record<string, string>>;
  /** Past this time the mail is dropped instead of retried (its link has expired). */
  expiresAt: number;
  /** The account it concerns, for the logs (never the address or the link). */
  userId?: string | null;
}

/** A mail the in-process outbox kept (no SMTP configured; the demo lists them). */
export interface KeptMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  sentAt: number;
}

/**
 * Mail delivery (the mail feature): queued, retried with backoff on transient failures, counted in
 * `/metrics`. Sending never blocks or fails the request that triggers it.
 */
export interface MailSender {
  /** Queues a mail; returns at once, never throws. */
  send(request: MailRequest): void;
  /**
   * Counts one mail of `scope` (e.g. `reset-password`) against the per-address and the per-IP
   * limits (API.md "Limits"); true when both allow it. Both are always counted, so the answer
   * takes the same work whatever it is and whether or not the address has an account.
   */
  admit(scope: string, address: string, ip: string): Promise<{ allowed: boolean; retryAfterSec: number }>;
  /** The mails kept in process when no SMTP URL is set (newest first); null with SMTP. */
  outbox(): KeptMail[] | null;
  /** Resolves once no mail is waiting or being sent (graceful shutdown, tests). */
  drained(): Promise<void>;
}

/**
 * A grant of the token endpoint (RFC 6749 §4), registered by the feature that provides it
 * (`refresh_token` by the oauth-server, `password` by the password feature).
 */
export interface TokenGrant {
  /** The `grant_type` value. */
  type: string;
  /** Validates the grant's own parameters: 400 `invalid_request` naming the field. */
  parse(body: Record<string, unknown>): unknown;
  /** Issues the session's tokens; `jkt` is the key of a verified DPoP proof (null: no proof). */
  issue(parsed: unknown, rc: RequestContext, jkt: string | null): Promise<IssuedSession>;
}

/**
 * Members a feature adds to the session answers — `{user, session}` (or `{mfaRequired}`) of every
 * login and signup, and `GET {basePath}/me` — e.g. the browser check's `browser`. Called only on
 * those answers (never on refresh or protected routes), so it must be cheap and synchronous; it
 * can never replace `user`, `session` or `mfaRequired`.
 */
export type SessionAnswerMembers = (c: Context<TokenwardEnv>) => Record<string, unknown>;

/**
 * What features, endpoints and middleware share: the configuration, the kernel and its ports,
 * the HTTP toolkit (cookies, CSRF key, metrics), and what features provide to each other
 * (filled in while the features are set up, in feature order).
 */
export interface ServerContext {
  /** The resolved configuration: the kernel's options and every feature's slice (`config[key]`). */
  config: KernelConfig & Record<string, unknown>;
  kernel: Kernel;
  store: Store;
  /** Single-use records (email links, OAuth codes, WebAuthn challenges): only hashes, one atomic consume. */
  artifacts: ArtifactStore;
  limiter: Limiter;
  bus: RevocationBus | null;
  keys: KeyRing;
  cookies: CookieJar;
  csrfKey: CryptoKey;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Throttled `last_active_at` writes of authenticated requests. */
  activity: SessionActivity;
  /** AES-GCM key of the `tw_mfa` pending-login cookie (a login waiting for its second factor). */
  pendingLoginKey: CryptoKey;
  /** A key for a feature's own purpose, derived from the server secret (HKDF; the purpose is the feature's id). */
  deriveKey(kind: 'seal' | 'hmac', purpose: string): Promise<CryptoKey>;
  /** DPoP proof verification (the dpop feature); null until it is set up. */
  dpop: ProofVerifier | null;
  /** Step-up grants for `step-up` endpoints and `tw.requireStepUp()` (the step-up feature). */
  stepUp: StepUpGuard | null;
  /** Mail delivery (the mail feature, first in feature order); null until it is set up. */
  mailer: MailSender | null;
  /** Every way a step-up can be proven (password, TOTP, passkey), registered by the features. */
  stepUpMethods: StepUpMethod[];
  /** The token endpoint's grants by `grant_type`, registered by the features. */
  grants: Map<string, TokenGrant>;
  /** What features add to the session answers (login, signup, `/me`), in feature order. */
  sessionAnswerMembers: SessionAnswerMembers[];
  /**
   * What each feature contributes to the account export (`exportAccount` of its instance), in
   * feature order: the export endpoint merges their entries into the user's data.
   */
  accountExports: Array<(userId: string) => Promise<Record<string, unknown>>>;
  /**
   * What the application passed to `createTokenward` besides options (hooks such as
   * `onNewDevice`, policies such as `dpop`); each feature reads its own entry.
   */
  dependencies: { onNewDevice?: NewDeviceHook | undefined; [name: string]: unknown };
}

/** The authenticated request, as seen by app routes behind `requireSession()`. */
export interface SessionInfo {
  userId: string;
  sessionId: string;
  claims: AccessTokenClaims;
  /** How the token arrived (`dpop`: `Authorization: DPoP` with a verified proof). */
  via: 'cookie' | 'bearer' | 'dpop';
}

/** Hono environment of Tokenward apps. */
export interface TokenwardEnv {
  Bindings: { incoming?: { socket?: { remoteAddress?: string } }; ip?: string };
  Variables: { tokenward: SessionInfo };
}

import type { RequestContext } from '../kernel/request-context.js';
import type { IssuedSession } from '../kernel/sessions/start-session.js';

export type { IssuedSession, RequestContext };
