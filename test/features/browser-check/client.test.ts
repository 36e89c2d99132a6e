// `client.browserSupport()` against the real handler: the server's verdict (from the session
// answers, else GET /auth/browser) merged with what only the page sees, and `state.browser`.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelLike, LockManagerLike } from '../../../src/client/env.js';
import { createClient, type TokenwardClient } from '../../../src/client/index.js';
import { CHROME_MAC, freshEmail, PASSWORD } from '../../support/account.js';
import { createTestInstance, type TestInstance } from '../../support/instance.js';

const IE11_WIN7 = 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko';
const locks: LockManagerLike = { request: async (_name, _options, callback) => callback({}) };
const channel = (): ChannelLike => ({ postMessage: () => undefined, onmessage: null, close: () => undefined });

let instance: TestInstance | undefined;
let client: TokenwardClient | undefined;
afterEach(async () => {
  client?.close();
  await instance?.close();
  instance = undefined;
});

interface Setup {
  userAgent?: string;
  /** Whether requests carry Sec-Fetch-Site (a current browser) or not (stripped on the way). */
  fetchMetadata?: boolean;
  /** Web Locks and BroadcastChannel in the page. */
  tabApis?: boolean;
  /** The server does not know GET /auth/browser (an older server). */
  oldServer?: boolean;
}

async function setup(options: Setup = {}) {
  instance = await createTestInstance({}, { listen: false });
  const tw = instance.tw;
  const jar = new Map<string, string>();
  const paths: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    paths.push(`${request.method} ${url.pathname}`);
    if (options.oldServer && url.pathname === '/auth/browser') return new Response('{}', { status: 404 });
    const headers = new Headers(request.headers);
    headers.set('user-agent', options.userAgent ?? CHROME_MAC);
    if (options.fetchMetadata !== false) headers.set('sec-fetch-site', 'same-origin');
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const body = request.method === 'GET' ? undefined : await request.text();
    const response = await tw.fetch(new Request(url, { method: request.method, headers, ...(body ? { body } : {}) }), {
      ip: '203.0.113.9',
    });
    for (const raw of response.headers.getSetCookie()) {
      const [pair = ''] = raw.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  };
  const document = {
    get cookie() {
      return jar.has('__Host-tw_csrf') ? `__Host-tw_csrf=${jar.get('__Host-tw_csrf')}` : '';
    },
    visibilityState: 'visible',
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  };
  const tabApis = options.tabApis !== false;
  client = createClient({
    baseUrl: tw.config.publicOrigin,
    fetch,
    document,
    locks: tabApis ? locks : null,
    channelFactory: tabApis ? channel : null,
  });
  return { client, paths };
}

const FULL_PAGE = { cookies: true, cryptoSubtle: true, webLocks: true, broadcastChannel: true };

describe('browser check › client.browserSupport()', () => {
  it('a visitor not signed in: asks GET /auth/browser once, then answers from what it knows', async () => {
    const { client, paths } = await setup();
    expect(await client.browserSupport()).toEqual({
      status: 'supported',
      reason: null,
      server: { status: 'supported', reason: null },
      page: FULL_PAGE,
    });
    await client.browserSupport();
    expect(paths.filter((p) => p === 'GET /auth/browser')).toHaveLength(1);
  });

  it('the server verdict of a session answer is used without another request', async () => {
    const { client, paths } = await setup({ fetchMetadata: false });
    await client.me(); // 401: gives the anonymous CSRF cookie an old browser logs in with
    await client.signup({ email: freshEmail(), password: PASSWORD });
    const support = await client.browserSupport();
    expect(support).toMatchObject({ status: 'degraded', reason: 'fetch_metadata_stripped' });
    expect(paths).not.toContain('GET /auth/browser');
  });

  it('what only the page sees makes it degraded: no Web Locks, no BroadcastChannel', async () => {
    const { client } = await setup({ tabApis: false });
    expect(await client.browserSupport()).toEqual({
      status: 'degraded',
      reason: 'no_web_locks',
      server: { status: 'supported', reason: null },
      page: { ...FULL_PAGE, webLocks: false, broadcastChannel: false },
    });
  });

  it('the worse verdict wins: an unsupported server verdict over a degraded page', async () => {
    const { client } = await setup({ userAgent: IE11_WIN7, tabApis: false });
    expect(await client.browserSupport()).toMatchObject({ status: 'unsupported', reason: 'samesite_ignored' });
  });

  it('cookies disabled: unsupported, whatever the server says (no session can be kept)', async () => {
    const { client } = await setup();
    const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { cookieEnabled: false }, configurable: true });
    try {
      expect(await client.browserSupport()).toMatchObject({
        status: 'unsupported',
        reason: 'cookies_disabled',
        server: { status: 'supported', reason: null },
        page: { ...FULL_PAGE, cookies: false },
      });
    } finally {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else Reflect.deleteProperty(globalThis, 'navigator');
    }
  });

  it('an older server without the check: the page verdict alone, server null', async () => {
    const { client } = await setup({ oldServer: true, tabApis: false });
    expect(await client.browserSupport()).toEqual({
      status: 'degraded',
      reason: 'no_web_locks',
      server: null,
      page: { ...FULL_PAGE, webLocks: false, broadcastChannel: false },
    });
  });

  it('onChange: the state carries browser once the server gave its verdict (anonymous, then signed in)', async () => {
    const { client } = await setup({ fetchMetadata: false });
    const seen: Array<{ status: string; browser?: { status: string; reason: string | null } }> = [];
    client.onChange((state) => seen.push(state));
    expect(await client.me()).toBeNull();
    expect(seen.at(-1)).toEqual({ status: 'anonymous' });
    await client.browserSupport();
    expect(seen.at(-1)).toMatchObject({
      status: 'anonymous',
      browser: { status: 'degraded', reason: 'fetch_metadata_stripped' },
    });
    await client.signup({ email: freshEmail(), password: PASSWORD });
    expect(seen.at(-1)).toMatchObject({
      status: 'authenticated',
      browser: { status: 'degraded', reason: 'fetch_metadata_stripped', page: FULL_PAGE },
    });
    expect(client.state()).toBe(seen.at(-1));
  });
});
