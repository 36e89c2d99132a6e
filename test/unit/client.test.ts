import { afterEach, describe, expect, it, vi } from 'vitest';
import { readCsrfToken } from '../../src/client/csrf.js';
import type { ChannelLike, DocumentLike, LockManagerLike } from '../../src/client/env.js';
import {
  type AuthState,
  createClient,
  type SessionInfo,
  type TokenwardClient,
  TokenwardClientError,
} from '../../src/client/index.js';

// ---------------------------------------------------------------------------------------------
// Fakes: one browser (shared cookie jar, Web Locks, BroadcastChannel) with several tabs, and a
// Tokenward server that counts refreshes. Cookies are captured when a request is sent, as a
// browser does, and answered after a small latency.
// ---------------------------------------------------------------------------------------------

const ORIGIN = 'https://app.test';
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const problem = (status: number, code: string, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify({ type: `https://tokenward.dev/errors/${code}`, title: code, status, code }), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  });
const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const user = { id: 'u1', email: 'ada@example.com', name: 'Ada', createdAt: '2025-01-01T00:00:00.000Z' };

class FakeServer {
  /** The browser's cookie jar (shared by every tab). */
  jar: { at?: string; rt?: string; csrf?: string } = {};
  currentAt = '';
  currentRt = '';
  serial = 0;
  refreshes = 0;
  requests: Request[] = [];
  bodies: unknown[] = [];
  latencyMs = 5;
  slowLatencyMs = 60;
  accessTtlMs = 600_000;
  /** Overrides for the next refresh answers (e.g. 503, or "succeed but the token stays bad"). */
  refreshMode: 'ok' | 'unavailable' | 'broken' = 'ok';
  sessionId = 's1';
  pendingMfa = false;

  session() {
    return {
      id: this.sessionId,
      createdAt: new Date(Date.now()).toISOString(),
      expiresAt: new Date(Date.now() + 14 * 86_400_000).toISOString(),
      accessExpiresAt: new Date(Date.now() + this.accessTtlMs).toISOString(),
    };
  }

  issue(): void {
    this.serial++;
    this.currentAt = `at${this.serial}`;
    this.currentRt = `rt${this.serial}`;
    this.jar = { at: this.currentAt, rt: this.currentRt, csrf: `csrf${this.serial}` };
  }

  /** Signs the browser in without going through the SDK. */
  signIn(): void {
    this.issue();
  }

  /** The access token in the jar stops verifying (expired or revoked), refresh still works. */
  expireAccess(): void {
    this.currentAt = `expired${++this.serial}`;
  }

  cookie(): string {
    return this.jar.csrf ? `theme=dark; __Host-tw_csrf=${this.jar.csrf}` : 'theme=dark';
  }

  count(path: string): number {
    return this.requests.filter((r) => new URL(r.url).pathname === path).length;
  }

  fetch = async (request: Request): Promise<Response> => {
    this.requests.push(request);
    const sent = { ...this.jar }; // cookies go with the request when it is sent
    const { pathname } = new URL(request.url);
    const body = request.method === 'GET' ? undefined : await request.text();
    this.bodies.push(body ? JSON.parse(body) : undefined);
    await delay(pathname === '/api/slow' ? this.slowLatencyMs : this.latencyMs);
    const authed = (): Response | undefined => {
      if (!sent.at) return problem(401, 'unauthenticated');
      if (sent.at !== this.currentAt) return problem(401, 'invalid_token');
      return undefined;
    };
    const route = `${request.method} ${pathname}`;
    switch (route) {
      case 'POST /auth/login': {
        const { password } = JSON.parse(body ?? '{}') as { password?: string };
        if (password === 'throttled') return problem(429, 'too_many_attempts', { 'Retry-After': '7' });
        if (password === 'needs totp') {
          this.pendingMfa = true;
          return json(200, { mfaRequired: true });
        }
        if (password !== 'correct horse') return problem(401, 'invalid_credentials');
        this.issue();
        return json(200, { user, session: this.session() });
      }
      case 'POST /auth/login/totp': {
        const { code } = JSON.parse(body ?? '{}') as { code?: string };
        if (!this.pendingMfa || code !== '123456') return problem(400, 'invalid_code');
        this.pendingMfa = false;
        this.issue();
        return json(200, { user, session: this.session() });
      }
      case 'POST /auth/signup':
        this.issue();
        return json(201, { user, session: this.session() });
      case 'POST /auth/refresh': {
        this.refreshes++;
        if (this.refreshMode === 'unavailable') return problem(503, 'unavailable');
        if (!sent.rt || sent.rt !== this.currentRt) {
          this.jar = {};
          return problem(401, 'refresh_invalid');
        }
        if (this.refreshMode === 'broken') return json(200, { session: this.session() });
        this.serial++;
        this.currentAt = `at${this.serial}`;
        this.currentRt = `rt${this.serial}`;
        this.jar = { ...this.jar, at: this.currentAt, rt: this.currentRt };
        return json(200, { session: this.session() });
      }
      case 'POST /auth/logout':
      case 'POST /auth/logout-all':
        this.jar = {};
        this.currentAt = '';
        return new Response(null, { status: 204 });
      case 'GET /auth/me':
        return authed() ?? json(200, { user, session: this.session() });
      case 'GET /auth/sessions':
        return authed() ?? json(200, { sessions: [{ id: this.sessionId, current: true }] });
      case 'POST /auth/sessions/revoke-others':
        return authed() ?? json(200, { revoked: 2 });
      case 'POST /auth/step-up':
        return authed() ?? json(200, { stepUpUntil: '2030-01-01T00:00:00.000Z' });
      case 'GET /api/notes':
      case 'GET /api/slow':
        return authed() ?? json(200, { notes: [] });
      case 'POST /api/notes': {
        const denied = authed();
        if (denied) return denied;
        if (request.headers.get('X-CSRF-Token') !== sent.csrf) return problem(403, 'csrf_rejected');
        return json(201, { note: { text: (JSON.parse(body ?? '{}') as { text: string }).text } });
      }
      default:
        if (request.method === 'DELETE' && pathname.startsWith('/auth/sessions/')) {
          const id = decodeURIComponent(pathname.slice('/auth/sessions/'.length));
          if (id === this.sessionId) this.jar = {};
          return authed() ?? new Response(null, { status: 204 });
        }
        return problem(404, 'not_found');
    }
  };
}

/** Web Locks with `ifAvailable` and FIFO hand-over, shared by the tabs of one fake browser. */
class FakeLocks implements LockManagerLike {
  private held = new Set<string>();
  private queues = new Map<string, (() => void)[]>();
  grants = 0;
  /** Browsers grant locks through the browser process; this models that round trip. */
  grantDelayMs = 0;

  async request<T>(
    name: string,
    options: { ifAvailable?: boolean },
    callback: (lock: unknown) => T | Promise<T>,
  ): Promise<T> {
    if (this.grantDelayMs) await delay(this.grantDelayMs);
    if (this.held.has(name)) {
      if (options.ifAvailable) return callback(null);
      await new Promise<void>((resolve) => {
        const queue = this.queues.get(name) ?? [];
        queue.push(resolve);
        this.queues.set(name, queue);
      });
    } else {
      this.held.add(name);
    }
    this.grants++;
    try {
      return await callback({ name });
    } finally {
      const next = this.queues.get(name)?.shift();
      if (next) next();
      else this.held.delete(name);
    }
  }
}

/** BroadcastChannel: asynchronous, ordered, structured-cloned, never delivered to the sender. */
class FakeChannelHub {
  private channels = new Set<{ name: string; channel: ChannelLike }>();
  sent: unknown[] = [];
  delayMs = 1;

  open = (name: string): ChannelLike => {
    const entry = {
      name,
      channel: {
        onmessage: null as ChannelLike['onmessage'],
        postMessage: (message: unknown) => {
          this.sent.push(message);
          const data = structuredClone(message);
          for (const other of this.channels) {
            if (other !== entry && other.name === name) {
              setTimeout(() => other.channel.onmessage?.({ data }), this.delayMs);
            }
          }
        },
        close: () => void this.channels.delete(entry),
      },
    };
    this.channels.add(entry);
    return entry.channel;
  };
}

class FakeDocument extends EventTarget implements DocumentLike {
  visibilityState: 'visible' | 'hidden' = 'visible';
  constructor(private readonly server: FakeServer) {
    super();
  }
  get cookie(): string {
    return this.server.cookie();
  }
  setVisibility(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

interface Browser {
  server: FakeServer;
  locks: FakeLocks;
  hub: FakeChannelHub;
  tab(options?: { locks?: boolean; channel?: boolean }): { client: TokenwardClient; doc: FakeDocument };
}

const clients: TokenwardClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  vi.useRealTimers();
});

function browser(): Browser {
  const server = new FakeServer();
  const locks = new FakeLocks();
  const hub = new FakeChannelHub();
  return {
    server,
    locks,
    hub,
    tab(options = {}) {
      const doc = new FakeDocument(server);
      const client = createClient({
        baseUrl: ORIGIN,
        fetch: server.fetch,
        locks: options.locks === false ? null : locks,
        channelFactory: options.channel === false ? null : hub.open,
        document: doc,
      });
      clients.push(client);
      return { client, doc };
    },
  };
}

const statusOf = (client: TokenwardClient): string => client.state().status;
const waitFor = async (check: () => boolean, ms = 1000): Promise<void> => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await delay(2);
  }
};

// ---------------------------------------------------------------------------------------------

describe('client › csrf cookie', () => {
  it('reads __Host-tw_csrf, then __Secure-tw_csrf, then tw_csrf', () => {
    expect(readCsrfToken('a=1; __Host-tw_csrf=host; tw_csrf=plain')).toBe('host');
    expect(readCsrfToken('tw_csrf=plain; __Secure-tw_csrf=parent')).toBe('parent');
    expect(readCsrfToken('a=1;tw_csrf=plain')).toBe('plain');
  });

  it('matches whole cookie names only and decodes percent-encoding', () => {
    expect(readCsrfToken('x__Host-tw_csrf=evil; tw_csrf_old=old')).toBeUndefined();
    expect(readCsrfToken('')).toBeUndefined();
    expect(readCsrfToken('__Host-tw_csrf=a%3Ab.c')).toBe('a:b.c');
    expect(readCsrfToken('__Host-tw_csrf=100%')).toBe('100%');
  });
});

describe('client › fetch', () => {
  it('sends credentials, and X-CSRF-Token only on state-changing requests', async () => {
    const b = browser();
    b.server.signIn();
    const { client } = b.tab();
    const get = await client.fetch('/api/notes');
    const post = await client.fetch('/api/notes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(get.status).toBe(200);
    expect(post.status).toBe(201);
    const [getRequest, postRequest] = b.server.requests;
    expect(getRequest?.url).toBe(`${ORIGIN}/api/notes`);
    expect(getRequest?.credentials).toBe('include');
    expect(getRequest?.headers.has('X-CSRF-Token')).toBe(false);
    expect(postRequest?.headers.get('X-CSRF-Token')).toBe('csrf1');
    expect(postRequest?.headers.get('Content-Type')).toBe('application/json');
  });

  it('leaves requests to other origins untouched: no CSRF token, no refresh', async () => {
    const b = browser();
    b.server.signIn();
    b.server.expireAccess();
    const { client } = b.tab();
    const res = await client.fetch('https://other.test/api/notes', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(b.server.requests[0]?.headers.has('X-CSRF-Token')).toBe(false);
    expect(b.server.requests[0]?.credentials).not.toBe('include');
    expect(b.server.refreshes).toBe(0);
  });

  it('on 401 invalid_token refreshes once and retries once, re-sending the body', async () => {
    const b = browser();
    b.server.signIn();
    b.server.expireAccess();
    const { client } = b.tab();
    const res = await client.fetch('/api/notes', { method: 'POST', body: JSON.stringify({ text: 'kept' }) });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ note: { text: 'kept' } });
    expect(b.server.refreshes).toBe(1);
    expect(b.server.count('/api/notes')).toBe(2);
    const refresh = b.server.requests.find((r) => r.url.endsWith('/auth/refresh'));
    expect(refresh?.method).toBe('POST');
    expect(refresh?.headers.get('X-CSRF-Token')).toBe('csrf1');
  });

  it('does not refresh on other 401 codes or other statuses', async () => {
    const b = browser();
    const { client } = b.tab();
    b.server.signIn();
    await client.me(); // authenticated
    const res = await client.fetch('/api/missing');
    expect(res.status).toBe(404);
    await expect(client.login({ email: 'ada@example.com', password: 'wrong' })).rejects.toThrow();
    expect(b.server.refreshes).toBe(0);
  });

  it('never refreshes twice for one request: a retry that still fails is returned as is', async () => {
    const b = browser();
    b.server.signIn();
    b.server.expireAccess();
    b.server.refreshMode = 'broken'; // refresh answers 200 but the token keeps failing
    const { client } = b.tab();
    const res = await client.fetch('/api/notes');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('invalid_token');
    expect(b.server.refreshes).toBe(1);
    expect(b.server.count('/api/notes')).toBe(2);
  });

  it('a refused refresh returns the original 401 and signs every tab out', async () => {
    const b = browser();
    b.server.signIn();
    const one = b.tab();
    const two = b.tab();
    await Promise.all([one.client.me(), two.client.me()]);
    const seen: AuthState[] = [];
    two.client.onChange((state) => seen.push(state));
    b.server.expireAccess();
    b.server.currentRt = 'revoked';
    const res = await one.client.fetch('/api/notes');
    expect(res.status).toBe(401);
    expect(b.server.refreshes).toBe(1);
    expect(b.server.count('/api/notes')).toBe(1);
    expect(statusOf(one.client)).toBe('anonymous');
    await waitFor(() => statusOf(two.client) === 'anonymous');
    expect(seen).toEqual([{ status: 'anonymous' }]);
    // Signed out now: a later 401 is not worth another refresh.
    await one.client.fetch('/api/notes');
    expect(b.server.refreshes).toBe(1);
  });

  it('a refresh that fails on the network or with 5xx keeps the session', async () => {
    const b = browser();
    b.server.signIn();
    const { client } = b.tab();
    await client.me();
    b.server.expireAccess();
    b.server.refreshMode = 'unavailable';
    const res = await client.fetch('/api/notes');
    expect(res.status).toBe(401);
    expect(b.server.refreshes).toBe(1);
    expect(statusOf(client)).toBe('authenticated');
  });

  it('ten concurrent 401s in one tab share one refresh', async () => {
    const b = browser();
    b.server.signIn();
    b.server.expireAccess();
    const { client } = b.tab({ locks: false, channel: false });
    const results = await Promise.all(Array.from({ length: 10 }, () => client.fetch('/api/notes')));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(b.server.refreshes).toBe(1);
  });
});

describe('client › one refresh across tabs', () => {
  it.each([
    ['Web Locks', true],
    ['the BroadcastChannel election (no Web Locks)', false],
  ])('five racing tabs send exactly one refresh with %s', async (_name, withLocks) => {
    const b = browser();
    b.server.signIn();
    const tabs = Array.from({ length: 5 }, () => b.tab({ locks: withLocks }));
    b.server.expireAccess();
    const results = await Promise.all(tabs.map(({ client }) => client.fetch('/api/notes')));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(b.server.refreshes).toBe(1);
    expect(b.server.count('/api/notes')).toBe(10);
  });

  it.each([
    ['Web Locks', true],
    ['the BroadcastChannel election (no Web Locks)', false],
  ])('a tab whose 401 arrives after another tab refreshed only retries (%s)', async (_name, withLocks) => {
    const b = browser();
    b.server.signIn();
    const slowTab = b.tab({ locks: withLocks });
    const fastTab = b.tab({ locks: withLocks });
    b.server.expireAccess();
    // Sent with the stale cookie; the answer (401) comes back ~60 ms later, after the fast tab
    // has refreshed and told everyone.
    const slow = slowTab.client.fetch('/api/slow');
    expect((await fastTab.client.fetch('/api/notes')).status).toBe(200);
    expect(b.server.refreshes).toBe(1);
    expect((await slow).status).toBe(200);
    expect(b.server.refreshes).toBe(1);
    expect(b.server.count('/api/slow')).toBe(2);
  });

  it('a tab that hears of another refresh while its lock request is pending does not refresh', async () => {
    const b = browser();
    b.server.signIn();
    b.locks.grantDelayMs = 30;
    b.hub.delayMs = 20;
    b.server.slowLatencyMs = 50;
    const slowTab = b.tab();
    const fastTab = b.tab();
    b.server.expireAccess();
    // fast: 401 at 5 ms, lock at 35, refreshed at 40 (heard by the slow tab at 60), lock free.
    // slow: 401 at 50 (nothing heard yet), lock granted at 80, by then it knows: just retry.
    const [slow, fast] = await Promise.all([slowTab.client.fetch('/api/slow'), fastTab.client.fetch('/api/notes')]);
    expect([slow.status, fast.status]).toEqual([200, 200]);
    expect(b.server.refreshes).toBe(1);
  });

  it('a tab that waited for the lock does not refresh again', async () => {
    const b = browser();
    b.server.signIn();
    const one = b.tab();
    const two = b.tab({ channel: false }); // cannot even hear that the other tab refreshed
    b.server.expireAccess();
    const [a, c] = await Promise.all([one.client.fetch('/api/notes'), two.client.fetch('/api/notes')]);
    expect([a.status, c.status]).toEqual([200, 200]);
    expect(b.server.refreshes).toBe(1);
    expect(b.locks.grants).toBe(2);
  });
});

describe('client › auth helpers and cross-tab state', () => {
  it('login returns the user and session and broadcasts authenticated to every tab', async () => {
    const b = browser();
    const one = b.tab();
    const two = b.tab();
    const seen: AuthState[] = [];
    two.client.onChange((state) => seen.push(state));
    const info = (await one.client.login({ email: 'ada@example.com', password: 'correct horse' })) as SessionInfo;
    expect(info.user).toEqual(user);
    expect(one.client.state()).toEqual({ status: 'authenticated', ...info });
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toEqual({ status: 'authenticated', user, session: info.session });
    const login = b.server.requests[0];
    expect(login?.headers.get('Content-Type')).toBe('application/json');
    // Nothing but the profile and session metadata is held in JS.
    expect(JSON.stringify(one.client.state())).not.toMatch(/at\d|rt\d|csrf\d/);
  });

  it('login with TOTP on resolves mfaRequired without changing state; the second step signs every tab in', async () => {
    const b = browser();
    const one = b.tab();
    const two = b.tab();
    const seen: AuthState[] = [];
    two.client.onChange((state) => seen.push(state));
    const first = await one.client.login({ email: 'ada@example.com', password: 'needs totp' });
    expect(first).toEqual({ mfaRequired: true });
    expect(statusOf(one.client)).not.toBe('authenticated');
    await expect(one.client.loginSecondFactor({ code: '000000' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_code',
    });
    expect(statusOf(one.client)).not.toBe('authenticated');
    const info = await one.client.loginSecondFactor({ code: '123456' });
    expect(info.user).toEqual(user);
    expect(one.client.state()).toEqual({ status: 'authenticated', ...info });
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toEqual({ status: 'authenticated', user, session: info.session });
  });

  it('without BroadcastChannel a tab catches up with logins and logouts when it becomes visible', async () => {
    const b = browser();
    const one = b.tab({ channel: false });
    const two = b.tab({ channel: false });
    expect(await two.client.me()).toBeNull();
    await one.client.login({ email: 'ada@example.com', password: 'correct horse' });
    two.doc.setVisibility('hidden');
    two.doc.setVisibility('visible');
    await waitFor(() => statusOf(two.client) === 'authenticated');
    await one.client.logout();
    two.doc.setVisibility('hidden');
    expect(statusOf(two.client)).toBe('authenticated');
    two.doc.setVisibility('visible');
    await waitFor(() => statusOf(two.client) === 'anonymous');
    // With a channel nobody polls: becoming visible asks the server nothing.
    const three = b.tab();
    await three.client.me();
    const before = b.server.count('/auth/me');
    three.doc.setVisibility('hidden');
    three.doc.setVisibility('visible');
    await delay(20);
    expect(b.server.count('/auth/me')).toBe(before);
  });

  it('signup sends name and becomes authenticated', async () => {
    const b = browser();
    const { client } = b.tab();
    await client.signup({ email: 'ada@example.com', password: 'correct horse', name: 'Ada' });
    expect(b.server.bodies[0]).toEqual({ email: 'ada@example.com', password: 'correct horse', name: 'Ada' });
    expect(statusOf(client)).toBe('authenticated');
  });

  it('logout and logoutAll sign every tab out', async () => {
    for (const method of ['logout', 'logoutAll'] as const) {
      const b = browser();
      b.server.signIn();
      const one = b.tab();
      const two = b.tab();
      await Promise.all([one.client.me(), two.client.me()]);
      await one.client[method]();
      const request = b.server.requests.at(-1);
      expect(request?.method).toBe('POST');
      expect(request?.headers.get('X-CSRF-Token')).toBe(`csrf1`);
      expect(request?.headers.has('Content-Type')).toBe(false);
      expect(statusOf(one.client)).toBe('anonymous');
      await waitFor(() => statusOf(two.client) === 'anonymous');
    }
  });

  it('revoking the current session signs every tab out; revoking another one does not', async () => {
    const b = browser();
    b.server.signIn();
    const one = b.tab();
    const two = b.tab();
    await Promise.all([one.client.me(), two.client.me()]);
    await one.client.revokeSession('s/other');
    expect(b.server.requests.at(-1)?.url).toBe(`${ORIGIN}/auth/sessions/s%2Fother`);
    expect(statusOf(one.client)).toBe('authenticated');
    await one.client.revokeSession('s1');
    expect(statusOf(one.client)).toBe('anonymous');
    await waitFor(() => statusOf(two.client) === 'anonymous');
  });

  it('me() resolves null when signed out, after at most one refresh attempt', async () => {
    const b = browser();
    const { client } = b.tab();
    expect(statusOf(client)).toBe('unknown');
    expect(await client.me()).toBeNull();
    expect(statusOf(client)).toBe('anonymous');
    expect(b.server.refreshes).toBe(1);
    expect(await client.me()).toBeNull();
    expect(b.server.refreshes).toBe(1);
  });

  it('me() after the access cookie expired (browser dropped it) refreshes and succeeds', async () => {
    const b = browser();
    b.server.signIn();
    delete b.server.jar.at;
    const { client } = b.tab();
    const info = await client.me();
    expect(info?.user).toEqual(user);
    expect(b.server.refreshes).toBe(1);
    expect(statusOf(client)).toBe('authenticated');
  });

  it('sessions, revokeOthers and stepUp return the server data', async () => {
    const b = browser();
    b.server.signIn();
    const { client } = b.tab();
    expect(await client.sessions()).toEqual([{ id: 's1', current: true }]);
    expect(await client.revokeOthers()).toBe(2);
    expect(await client.stepUp({ password: 'correct horse' })).toEqual({ stepUpUntil: '2030-01-01T00:00:00.000Z' });
  });

  it('non-2xx answers throw TokenwardClientError with status, code and Retry-After', async () => {
    const b = browser();
    const { client } = b.tab();
    const wrong = await client.login({ email: 'a@b.c', password: 'nope' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(TokenwardClientError);
    expect(wrong).toMatchObject({ status: 401, code: 'invalid_credentials', name: 'TokenwardClientError' });
    const throttled = await client.login({ email: 'a@b.c', password: 'throttled' }).catch((e: unknown) => e);
    expect(throttled).toMatchObject({ status: 429, code: 'too_many_attempts', retryAfter: 7 });
    expect(statusOf(client)).toBe('unknown');
  });

  it('onChange returns an unsubscribe', async () => {
    const b = browser();
    const { client } = b.tab();
    const listener = vi.fn();
    const off = client.onChange(listener);
    await client.login({ email: 'ada@example.com', password: 'correct horse' });
    off();
    await client.logout();
    expect(listener).toHaveBeenCalledTimes(1);
  });
});

describe('client › proactive refresh', () => {
  const MINUTE = 60_000;

  it('refreshes a minute before accessExpiresAt, and keeps doing so', async () => {
    vi.useFakeTimers();
    const b = browser();
    const { client } = b.tab();
    await Promise.all([
      client.login({ email: 'ada@example.com', password: 'correct horse' }),
      vi.advanceTimersByTimeAsync(10),
    ]);
    await vi.advanceTimersByTimeAsync(8 * MINUTE);
    expect(b.server.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(1 * MINUTE);
    expect(b.server.refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(8.5 * MINUTE);
    expect(b.server.refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(1 * MINUTE);
    expect(b.server.refreshes).toBe(2);
  });

  it('pauses while the tab is hidden and refreshes at once when it is visible again', async () => {
    vi.useFakeTimers();
    const b = browser();
    const { client, doc } = b.tab();
    await Promise.all([
      client.login({ email: 'ada@example.com', password: 'correct horse' }),
      vi.advanceTimersByTimeAsync(10),
    ]);
    doc.setVisibility('hidden');
    await vi.advanceTimersByTimeAsync(30 * MINUTE);
    expect(b.server.refreshes).toBe(0);
    doc.setVisibility('visible');
    await vi.advanceTimersByTimeAsync(20);
    expect(b.server.refreshes).toBe(1);
  });

  it('visible tabs whose timers fire together send one refresh', async () => {
    vi.useFakeTimers();
    const b = browser();
    const tabs = [b.tab(), b.tab(), b.tab()];
    await Promise.all([
      tabs[0]?.client.login({ email: 'ada@example.com', password: 'correct horse' }),
      vi.advanceTimersByTimeAsync(10),
    ]);
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(b.server.refreshes).toBe(1);
  });

  it('does not refresh in a loop when the local clock is ahead of the server', async () => {
    vi.useFakeTimers();
    const b = browser();
    b.server.accessTtlMs = -5 * MINUTE; // looks expired to this tab the moment it arrives
    const { client } = b.tab();
    await Promise.all([
      client.login({ email: 'ada@example.com', password: 'correct horse' }),
      vi.advanceTimersByTimeAsync(10),
    ]);
    await vi.advanceTimersByTimeAsync(30 * MINUTE);
    expect(b.server.refreshes).toBe(0);
  });

  it('corrects for clock skew using the Date header', async () => {
    vi.useFakeTimers();
    const b = browser();
    const { client } = b.tab();
    const serverAhead = 3 * MINUTE;
    const inner = b.server.fetch;
    const fetchWithDate = async (request: Request): Promise<Response> => {
      const res = await inner(request);
      const headers = new Headers(res.headers);
      headers.set('Date', new Date(Date.now() + serverAhead).toUTCString());
      return new Response(res.body, { status: res.status, headers });
    };
    b.server.fetch = fetchWithDate;
    const skewed = createClient({
      baseUrl: ORIGIN,
      fetch: fetchWithDate,
      locks: null,
      channelFactory: null,
      document: null,
    });
    clients.push(skewed);
    client.close();
    b.server.accessTtlMs = 10 * MINUTE + serverAhead; // server clock: expires 10 min from its now
    await Promise.all([
      skewed.login({ email: 'ada@example.com', password: 'correct horse' }),
      vi.advanceTimersByTimeAsync(10),
    ]);
    // Uncorrected, the token would look valid for 13 minutes and be refreshed at 12.
    await vi.advanceTimersByTimeAsync(8 * MINUTE);
    expect(b.server.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(1.5 * MINUTE); // the Date header has 1 s resolution
    expect(b.server.refreshes).toBe(1);
  });

  it('close() stops the proactive refresh', async () => {
    vi.useFakeTimers();
    const b = browser();
    const { client } = b.tab();
    await Promise.all([
      client.login({ email: 'ada@example.com', password: 'correct horse' }),
      vi.advanceTimersByTimeAsync(10),
    ]);
    client.close();
    await vi.advanceTimersByTimeAsync(30 * MINUTE);
    expect(b.server.refreshes).toBe(0);
  });
});
