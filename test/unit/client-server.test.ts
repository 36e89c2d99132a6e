import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type TokenwardClient } from '../../src/client/index.js';
import { createTestInstance, TestClock, type TestInstance } from '../support/instance.js';

// The SDK against the real Tokenward handler (no socket), with a small browser-like cookie jar:
// cookies are scoped by Path, dropped at Max-Age, and HttpOnly ones are invisible to the SDK.

const ORIGIN = 'http://localhost:3000';

class BrowserJar {
  private cookies = new Map<string, { value: string; path: string; httpOnly: boolean; expiresAt: number }>();
  constructor(private readonly clock: TestClock) {}

  store(response: Response): void {
    for (const raw of response.headers.getSetCookie()) {
      const [pair = '', ...attrs] = raw.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const attr = (name: string) => attrs.find((a) => a.toLowerCase().startsWith(name));
      const maxAge = attr('max-age=');
      const expiresAt = maxAge ? this.clock.now() + Number(maxAge.slice(8)) * 1000 : Number.POSITIVE_INFINITY;
      const name = pair.slice(0, eq);
      if (expiresAt <= this.clock.now()) this.cookies.delete(name);
      else
        this.cookies.set(name, {
          value: pair.slice(eq + 1),
          path: attr('path=')?.slice(5) ?? '/',
          httpOnly: Boolean(attr('httponly')),
          expiresAt,
        });
    }
  }

  header(path: string): string {
    return [...this.live()]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([n, c]) => `${n}=${c.value}`)
      .join('; ');
  }

  /** What `document.cookie` shows: no HttpOnly cookies. */
  script(): string {
    return [...this.live()]
      .filter(([, c]) => !c.httpOnly)
      .map(([n, c]) => `${n}=${c.value}`)
      .join('; ');
  }

  names(): string[] {
    return [...this.live()].map(([n]) => n);
  }

  private *live() {
    for (const entry of this.cookies) if (entry[1].expiresAt > this.clock.now()) yield entry;
  }
}

let instance: TestInstance | undefined;
let client: TokenwardClient | undefined;
afterEach(async () => {
  client?.close();
  await instance?.close();
});

async function setup(browser: { secFetch: boolean }) {
  const clock = new TestClock(Date.now());
  instance = await createTestInstance({ publicOrigin: ORIGIN }, { clock, listen: false });
  const tw = instance.tw;
  const jar = new BrowserJar(clock);
  const paths: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    paths.push(`${request.method} ${url.pathname}`);
    const headers = new Headers(request.headers);
    const cookie = jar.header(url.pathname);
    if (cookie) headers.set('Cookie', cookie);
    if (browser.secFetch) {
      headers.set('Sec-Fetch-Site', 'same-origin');
      if (request.method !== 'GET') headers.set('Origin', ORIGIN);
    }
    const init: RequestInit = { method: request.method, headers };
    if (request.method !== 'GET' && request.method !== 'HEAD') init.body = await request.arrayBuffer();
    const response = await tw.fetch(new Request(request.url, init), { ip: '203.0.113.7' });
    jar.store(response);
    return response;
  };
  const doc = {
    get cookie() {
      return jar.script();
    },
    visibilityState: 'hidden',
    addEventListener() {},
    removeEventListener() {},
  };
  client = createClient({ baseUrl: ORIGIN, fetch, locks: null, channelFactory: null, document: doc });
  return { client, clock, jar, paths };
}

describe('client › against the real server', () => {
  it('signs up, survives an expired access token with one refresh, and logs out', async () => {
    const { client, clock, jar, paths } = await setup({ secFetch: true });
    const info = await client.signup({ email: 'sdk@example.com', password: 'a sturdy passphrase 42' });
    expect(info.user.email).toBe('sdk@example.com');
    expect(jar.names()).toEqual(expect.arrayContaining(['__Host-tw_at', '__Secure-tw_rt', '__Host-tw_csrf']));
    expect(client.state().status).toBe('authenticated');

    clock.advance(11 * 60); // the access cookie's Max-Age has passed: the browser no longer sends it
    const notes = await client.fetch('/api/notes');
    expect(notes.status).toBe(200);
    expect(paths.filter((p) => p === 'POST /auth/refresh')).toHaveLength(1);

    await client.logout();
    expect(client.state().status).toBe('anonymous');
    expect(jar.names()).not.toContain('__Secure-tw_rt');
    expect(await client.me()).toBeNull();
  });

  it('passes the CSRF rule with X-CSRF-Token when the browser sends no Sec-Fetch-Site or Origin', async () => {
    const browser = { secFetch: true };
    const { client, jar } = await setup(browser);
    await client.signup({ email: 'old@example.com', password: 'a sturdy passphrase 42' });
    browser.secFetch = false; // from here on, only the double-submit token can pass
    const res = await client.fetch('/api/notes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'csrf ok' }),
    });
    expect(res.status).toBe(201);
    // The same request with the session cookies but without the header is refused.
    const forged = await instance?.request('/api/notes', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: jar.header('/api/notes') },
      body: JSON.stringify({ text: 'no token' }),
    });
    expect(forged?.status).toBe(403);
  });
});
