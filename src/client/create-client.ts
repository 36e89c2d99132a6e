import { readCsrfToken } from './csrf.js';
import type { ChannelLike, DocumentLike, LockManagerLike } from './env.js';
import { TokenwardClientError } from './errors.js';
import { createRefreshCoordinator, type ElectionMessage } from './refresh-coordinator.js';
import type {
  AuthState,
  BrowserSupport,
  BrowserVerdict,
  ClientOptions,
  DeviceSession,
  MfaChallenge,
  Session,
  SessionInfo,
  TokenwardClient,
} from './types.js';

/** What tabs tell each other. A token never travels here: the cookie jar is shared anyway. */
type TabMessage =
  | ElectionMessage
  | { t: 'state'; state: AuthState }
  | { t: 'refreshed'; gen: number; session: Session };

type BrowserGlobals = {
  document?: DocumentLike;
  navigator?: { locks?: LockManagerLike; cookieEnabled?: boolean };
  crypto?: { subtle?: unknown };
  BroadcastChannel?: new (name: string) => ChannelLike;
  location?: { href: string; origin: string };
};

const ANONYMOUS: AuthState = { status: 'anonymous' };
const RANK = ['supported', 'degraded', 'unsupported'];
const SAFE_METHOD = /^(GET|HEAD|OPTIONS)$/;
/** Refresh this long before the access token expires (at most a quarter of its lifetime). */
const REFRESH_LEAD_MS = 60_000;

/**
 * Creates the browser SDK. Create one per page, in the browser (not during SSR).
 *
 * @example
 * ```ts
 * import { createClient } from 'tokenward/client';
 *
 * const client = createClient(); // same origin, routes under /auth
 * client.onChange((state) => render(state));
 * await client.me();
 * const res = await client.fetch('/api/notes', {
 *   method: 'POST',
 *   headers: { 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ text: 'hello' }),
 * });
 * ```
 */
export function createClient(options: ClientOptions = {}): TokenwardClient {
  const g = globalThis as unknown as BrowserGlobals;
  const doc = options.document === undefined ? g.document : options.document;
  const fetchImpl = options.fetch ?? ((request: Request) => fetch(request));
  const locks = (options.locks === undefined ? g.navigator?.locks : options.locks) ?? undefined;
  const openChannel =
    options.channelFactory === undefined
      ? doc &&
        g.BroadcastChannel &&
        ((name: string) => new (g.BroadcastChannel as new (n: string) => ChannelLike)(name))
      : options.channelFactory;
  let channel = openChannel ? openChannel('tokenward') : undefined;

  const base = options.baseUrl ?? g.location?.href;
  const apiOrigin = base && new URL(base).origin;
  const authUrl = (path: string): string =>
    `${options.baseUrl?.replace(/\/$/, '') ?? ''}${options.basePath ?? '/auth'}${path}`;
  // Cross-origin API servers need `include`; same-origin needs no more than `same-origin`.
  const credentials = g.location?.origin === apiOrigin ? 'same-origin' : 'include';

  let state: AuthState = { status: 'unknown' };
  let generation = 0;
  let skewMs = 0;
  let dueAt: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<(state: AuthState) => void>();
  const post = (message: TabMessage): void => channel?.postMessage(message);

  const schedule = (): void => {
    clearTimeout(timer);
    // Hidden tabs do not refresh; on becoming visible an overdue refresh runs at once.
    if (dueAt !== undefined && doc?.visibilityState !== 'hidden') {
      timer = setTimeout(() => void coordinator.refreshOnce(mark()), Math.min(dueAt - Date.now(), 2 ** 31 - 1));
    }
  };

  // The server's verdict on this browser: undefined until a response carried one.
  let verdict: BrowserVerdict | null | undefined;
  const support = (): BrowserSupport => {
    const page = {
      cookies: g.navigator?.cookieEnabled !== false,
      cryptoSubtle: !!g.crypto?.subtle,
      webLocks: !!locks,
      broadcastChannel: !!openChannel,
    };
    // What the server cannot see, worst first: without cookies no session can be kept at all.
    const reason = !page.cookies
      ? 'cookies_disabled'
      : !page.cryptoSubtle
        ? 'no_crypto_subtle'
        : !page.webLocks
          ? 'no_web_locks'
          : !page.broadcastChannel
            ? 'no_broadcast_channel'
            : null;
    const local: BrowserVerdict = { status: RANK[reason ? (page.cookies ? 1 : 2) : 0] as 'supported', reason };
    const worst = verdict && RANK.indexOf(verdict.status) >= RANK.indexOf(local.status) ? verdict : local;
    return { status: worst.status, reason: worst.reason, server: verdict ?? null, page };
  };

  const setState = (next: AuthState, broadcast?: boolean): void => {
    state = verdict === undefined || next.status === 'unknown' ? next : { ...next, browser: support() };
    dueAt = undefined;
    if (next.status === 'authenticated') {
      const left = Date.parse(next.session.accessExpiresAt) - skewMs - Date.now();
      // The server just vouched for this token, so if it already looks expired the clocks
      // disagree: leave it to the 401 path rather than refresh in a loop.
      if (left > 0) dueAt = Date.now() + Math.max(left - REFRESH_LEAD_MS, left * 0.75);
    }
    schedule();
    if (broadcast) post({ t: 'state', state: next });
    for (const listener of listeners) listener(state);
  };

  const send = async (request: Request): Promise<Response> => {
    const headers = new Headers(request.headers);
    const csrf = doc && readCsrfToken(doc.cookie);
    if (csrf && !SAFE_METHOD.test(request.method) && !headers.has('X-CSRF-Token')) {
      headers.set('X-CSRF-Token', csrf);
    }
    const response = await fetchImpl(new Request(request, { credentials, headers }));
    const date = response.headers.get('Date');
    if (date) skewMs = Date.parse(date) - Date.now() || 0;
    return response;
  };

  const refreshOverHttp = async (): Promise<boolean> => {
    const response = await send(new Request(new URL(authUrl('/refresh'), base), { method: 'POST' })).catch(
      () => undefined,
    );
    if (response?.ok) {
      const body = (await response.json().catch(() => ({}))) as { session?: Session };
      generation = Date.now();
      if (body.session) {
        post({ t: 'refreshed', gen: generation, session: body.session });
        if (state.status === 'authenticated') setState({ ...state, session: body.session });
      }
      return true;
    }
    // A definite refusal ends the session in every tab; a network error or 5xx does not.
    if (response && response.status < 500) setState(ANONYMOUS, true);
    return false;
  };

  // What changes when any tab refreshes: the broadcast generation, and the double-submit cookie,
  // which every refresh re-issues into the jar all tabs share (seen at once, unlike a broadcast
  // that may arrive after another tab's lock was released).
  const csrfCookie = (): string => (doc && readCsrfToken(doc.cookie)) ?? '';
  const mark = (): string => `${generation} ${csrfCookie()}`;
  const coordinator = createRefreshCoordinator({
    locks,
    post: channel && post,
    generation: mark,
    // A session's CSRF cookie changing means a refresh (an anonymous one appearing does not).
    moved: (seen) => {
      const [gen, csrf] = seen.split(' ');
      return gen !== String(generation) || (csrf !== '' && csrf !== csrfCookie());
    },
    run: refreshOverHttp,
  });

  if (channel) {
    channel.onmessage = ({ data }) => {
      const message = data as TabMessage;
      if (message.t === 'state') setState(message.state);
      else if (message.t === 'refreshed') {
        generation = message.gen;
        if (state.status === 'authenticated') setState({ ...state, session: message.session });
      } else coordinator.receive(message);
    };
  }
  doc?.addEventListener('visibilitychange', schedule);
  // Without BroadcastChannel (and never through storage events), a tab learns of another tab's
  // login, logout or revocation when it becomes visible again: it asks the server.
  const resync = (): void => {
    if (!channel && doc?.visibilityState === 'visible' && state.status !== 'unknown')
      void client.me().catch(() => undefined);
  };
  doc?.addEventListener('visibilitychange', resync);

  const clientFetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input instanceof Request ? input : new URL(input, base), init);
    if (new URL(request.url).origin !== apiOrigin) return fetchImpl(request);
    const seen = mark();
    const response = await send(request.clone());
    if (response.status !== 401) return response;
    const { code } = (await response
      .clone()
      .json()
      .catch(() => ({}))) as { code?: string };
    // `unauthenticated` also means "the access cookie expired and the browser dropped it";
    // worth one refresh unless this tab already knows it is signed out.
    const refreshable = code === 'invalid_token' || (code === 'unauthenticated' && state.status !== 'anonymous');
    return refreshable && (await coordinator.refreshOnce(seen)) ? send(request) : response;
  };

  const call = async <T>(path: string, method = 'GET', body?: object): Promise<T> => {
    const response = await clientFetch(
      authUrl(path),
      body ? { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : { method },
    );
    const data = (response.status === 204 ? undefined : await response.json().catch(() => undefined)) as
      | { code?: string; title?: string; detail?: string; browser?: BrowserVerdict }
      | undefined;
    if (data?.browser) verdict = data.browser;
    if (!response.ok) {
      throw new TokenwardClientError(
        response.status,
        data?.code ?? 'unknown',
        data?.detail ?? data?.title ?? `HTTP ${response.status}`,
        Number(response.headers.get('Retry-After')) || undefined,
      );
    }
    return data as T;
  };

  const signIn = async <T extends object = SessionInfo>(path: string, body: object): Promise<T> => {
    const info = await call<SessionInfo | MfaChallenge>(path, 'POST', body);
    // A second factor is due: no session yet, the state does not change.
    if ('session' in info) setState({ status: 'authenticated', user: info.user, session: info.session }, true);
    return info as T;
  };

  const signOut = async (path: string): Promise<void> => {
    await call(path, 'POST');
    setState(ANONYMOUS, true);
  };

  const client: TokenwardClient = {
    fetch: clientFetch,
    login: (credentials) => signIn('/login', credentials),
    signup: (details) => signIn('/signup', details),
    loginSecondFactor: (proof) => signIn('/login/totp', proof),
    logout: () => signOut('/logout'),
    logoutAll: () => signOut('/logout-all'),
    async me() {
      try {
        const info = await call<SessionInfo>('/me');
        setState({ status: 'authenticated', user: info.user, session: info.session });
        return info;
      } catch (error) {
        if (!(error instanceof TokenwardClientError) || error.status !== 401) throw error;
        if (state.status !== 'anonymous') setState(ANONYMOUS);
        return null;
      }
    },
    sessions: async () => (await call<{ sessions: DeviceSession[] }>('/sessions')).sessions,
    async revokeSession(id) {
      await call(`/sessions/${encodeURIComponent(id)}`, 'DELETE');
      if (state.status === 'authenticated' && state.session.id === id) setState(ANONYMOUS, true);
    },
    revokeOthers: async () => (await call<{ revoked: number }>('/sessions/revoke-others', 'POST')).revoked,
    stepUp: (proof) => call('/step-up', 'POST', proof),
    signIn,
    async browserSupport() {
      if (verdict === undefined) {
        await call('/browser').catch(() => (verdict = null));
        if (state.status !== 'unknown') setState(state);
      }
      return support();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    state: () => state,
    close() {
      clearTimeout(timer);
      dueAt = undefined;
      doc?.removeEventListener('visibilitychange', schedule);
      doc?.removeEventListener('visibilitychange', resync);
      channel?.close();
      channel = undefined;
      listeners.clear();
    },
  };
  return client;
}
