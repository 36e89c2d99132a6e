import type { ChannelLike, DocumentLike, LockManagerLike } from './env.js';

/**
 * The signed-in user, as the server returns it. Never a password hash, never a token.
 *
 * @example
 * ```ts
 * const user: User = { id: 'u_1', email: 'ada@example.com', emailVerified: false, name: 'Ada', createdAt: '2025-01-01T00:00:00Z' };
 * ```
 */
export interface User {
  id: string;
  email: string;
  /** The holder has proven the address (email verification, or a signup through a provider that verified it). */
  emailVerified: boolean;
  name: string | null;
  createdAt: string;
}

/**
 * Metadata of the current session (ISO 8601 UTC times). `accessExpiresAt` drives the
 * proactive refresh; `expiresAt` is when the refresh chain ends at the latest.
 *
 * @example
 * ```ts
 * const state = client.state();
 * if (state.status === 'authenticated') console.log(state.session.expiresAt);
 * ```
 */
export interface Session {
  id: string;
  createdAt: string;
  expiresAt: string;
  accessExpiresAt: string;
  /**
   * Set when the session may not use the app yet: `mfa_enrollment` (the server's `requireMfa`)
   * means it can only set up a second factor (a passkey or an authenticator app); other routes
   * answer 403 `mfa_enrollment_required`.
   */
  restriction?: string;
}

/**
 * The server's verdict on this browser (`browser` of `/auth/me`, the login and signup answers,
 * `GET /auth/browser`; see docs/browsers.md for the reasons).
 *
 * @example
 * ```ts
 * const verdict: BrowserVerdict = { status: 'degraded', reason: 'no_fetch_metadata' };
 * ```
 */
export interface BrowserVerdict {
  status: 'supported' | 'degraded' | 'unsupported';
  /** A stable code (`samesite_ignored`, `no_fetch_metadata`, `cookies_disabled`, …); null when supported. */
  reason: string | null;
}

/**
 * What `client.browserSupport()` resolves with: the server's verdict merged with what only the
 * page can see. `status` and `reason` are the worse of the two (the server's on a tie).
 *
 * @example
 * ```ts
 * const support = await client.browserSupport();
 * if (support.status !== 'supported') showBanner(support.reason);
 * ```
 */
export interface BrowserSupport extends BrowserVerdict {
  /** The server's verdict; null when it could not be had (network error, older server). */
  server: BrowserVerdict | null;
  /**
   * What the page has: cookies enabled (`unsupported` without: no session can be kept),
   * `crypto.subtle` (a secure context), Web Locks and `BroadcastChannel` (one refresh and one
   * logout for all tabs; without them the SDK falls back and the verdict is `degraded`).
   */
  page: { cookies: boolean; cryptoSubtle: boolean; webLocks: boolean; broadcastChannel: boolean };
}

/**
 * What `login`, `signup` and `me` resolve with.
 *
 * @example
 * ```ts
 * const { user, session }: SessionInfo = await client.login({ email, password });
 * ```
 */
export interface SessionInfo {
  user: User;
  session: Session;
  /** The server's verdict on this browser (servers with the browser check). */
  browser?: BrowserVerdict;
}

/**
 * What `login` resolves with when the account needs its second factor.
 *
 * @example
 * ```ts
 * const result = await client.login({ email, password });
 * if ('mfaRequired' in result) await client.loginSecondFactor({ code: prompt('Code') ?? '' });
 * ```
 */
export interface MfaChallenge {
  mfaRequired: true;
}

/**
 * One entry of the user's session list (`GET /auth/sessions`).
 *
 * @example
 * ```ts
 * for (const s of await client.sessions()) console.log(s.device.label, s.current ? '(this device)' : '');
 * ```
 */
export interface DeviceSession {
  id: string;
  current: boolean;
  device: { browser: string; os: string; label: string };
  ip: string;
  createdAt: string;
  lastActiveAt: string;
  newDevice: boolean;
}

/**
 * The auth state every tab agrees on. `unknown` only until the first `me()`, `login()`,
 * `signup()` or refresh outcome; listeners are never called with it. Once the server has given
 * its verdict on the browser, `browser` holds what `browserSupport()` would resolve with.
 *
 * @example
 * ```ts
 * client.onChange((state: AuthState) => {
 *   if (state.status === 'anonymous') router.navigate('/login');
 * });
 * ```
 */
export type AuthState =
  | { status: 'unknown' }
  | { status: 'authenticated'; user: User; session: Session; browser?: BrowserSupport }
  | { status: 'anonymous'; browser?: BrowserSupport };

/**
 * Proof of the user's identity for `stepUp`.
 *
 * @example
 * ```ts
 * const proof: StepUpProof = { totp: '123456' };
 * ```
 */
export type StepUpProof = { password: string } | { totp: string } | { passkey: unknown };

/**
 * Options of `createClient`.
 *
 * @example
 * ```ts
 * const options: ClientOptions = { baseUrl: 'https://api.example.com', basePath: '/auth' };
 * ```
 */
export interface ClientOptions {
  /**
   * Origin (optionally with a path prefix) of the Tokenward server. Defaults to the page's
   * own origin. Relative URLs given to `client.fetch` resolve against it.
   */
  baseUrl?: string;
  /** Where Tokenward's routes are mounted. Default `/auth`. */
  basePath?: string;
  /** @internal Test seam: the underlying `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** @internal Test seam: Web Locks; `null` simulates a browser without them. */
  locks?: LockManagerLike | null;
  /** @internal Test seam: opens the cross-tab channel; `null` simulates no BroadcastChannel. */
  channelFactory?: ((name: string) => ChannelLike) | null;
  /** @internal Test seam: `document` (cookies, visibility); `null` for none. */
  document?: DocumentLike | null;
}

/**
 * The browser SDK returned by `createClient`.
 *
 * @example
 * ```ts
 * const client: TokenwardClient = createClient();
 * const notes = await client.fetch('/api/notes').then((r) => r.json());
 * ```
 */
export interface TokenwardClient {
  /**
   * `fetch` for your API: sends the session cookies, adds `X-CSRF-Token` to state-changing
   * requests, and on a 401 `invalid_token` refreshes once (one refresh for all tabs) and
   * retries once. Requests to other origins pass through untouched (no cookies, no CSRF token).
   */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
  /**
   * `POST {basePath}/login`; broadcasts the new state to every tab. Resolves `{ mfaRequired: true }`
   * (state unchanged) when the account has TOTP on: finish with {@link TokenwardClient.loginSecondFactor}.
   */
  login(credentials: { email: string; password: string }): Promise<SessionInfo | MfaChallenge>;
  /**
   * `POST {basePath}/login/totp`: the second login step (the pending login is an HttpOnly cookie
   * set by `login`). Send the authenticator `code` or one `recoveryCode`; broadcasts the new state.
   */
  loginSecondFactor(proof: { code: string } | { recoveryCode: string }): Promise<SessionInfo>;
  /** `POST {basePath}/signup`; broadcasts the new state to every tab. */
  signup(details: { email: string; password: string; name?: string }): Promise<SessionInfo>;
  /** `POST {basePath}/logout`; every tab becomes anonymous. */
  logout(): Promise<void>;
  /** `POST {basePath}/logout-all`: ends every session of the user, on every device. */
  logoutAll(): Promise<void>;
  /** `GET {basePath}/me`; resolves `null` (and the state becomes anonymous) when signed out. */
  me(): Promise<SessionInfo | null>;
  /** `GET {basePath}/sessions`: the user's sessions on all devices. */
  sessions(): Promise<DeviceSession[]>;
  /** `DELETE {basePath}/sessions/:id`; revoking the current session signs every tab out. */
  revokeSession(id: string): Promise<void>;
  /** `POST {basePath}/sessions/revoke-others`; resolves the number of sessions revoked. */
  revokeOthers(): Promise<number>;
  /** `POST {basePath}/step-up`; the grant itself is an HttpOnly cookie. */
  stepUp(proof: StepUpProof): Promise<{ stepUpUntil: string }>;
  /**
   * `POST {basePath}{path}` with a JSON body, for sign-in methods in other entries
   * (`tokenward/client/passkeys`): a `{user, session}` answer becomes the state of every tab,
   * `{mfaRequired: true}` leaves it unchanged. Throws {@link TokenwardClientError} like `login`.
   */
  signIn<T extends object = SessionInfo | MfaChallenge>(path: string, body: object): Promise<T>;
  /**
   * Whether this browser can keep the session safe: the server's verdict (from the last `me()`,
   * `login()` or `signup()`, else `GET {basePath}/browser`) merged with what the page has
   * (cookies enabled, `crypto.subtle`, Web Locks, `BroadcastChannel`). Listeners see it as
   * `state.browser` from then on.
   */
  browserSupport(): Promise<BrowserSupport>;
  /** Calls `listener` whenever this or another tab changes the auth state; returns an unsubscribe. */
  onChange(listener: (state: AuthState) => void): () => void;
  /** The current state; the same object until it changes (fits React's `useSyncExternalStore`). */
  state(): AuthState;
  /** Stops timers and cross-tab listening (tests, hot reload). */
  close(): void;
}
