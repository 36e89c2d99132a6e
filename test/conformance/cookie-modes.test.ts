import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { Browser, createTestInstance, parseSetCookies, signup, type TestInstance } from '../support/instance.js';

let t: TestInstance | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('cookie modes', () => {
  it('split mode: header.payload readable, signature HttpOnly, stitched back by the server', async () => {
    t = await createTestInstance({ cookies: { split: true } });
    const b = new Browser(t.request);
    const { response } = await signup(b);
    const c = parseSetCookies(response);
    expect(c.has('__Host-tw_at')).toBe(false);
    const hp = c.get('__Host-tw_at_hp');
    const sig = c.get('__Host-tw_at_sig');
    expect(hp?.value.split('.')).toHaveLength(2);
    expect(hp?.attributes.has('httponly')).toBe(false);
    expect(hp?.attributes.get('secure')).toBe(true);
    expect(hp?.attributes.get('samesite')).toBe('Lax');
    expect(sig?.value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sig?.attributes.get('httponly')).toBe(true);
    const payload = JSON.parse(Buffer.from(hp?.value.split('.')[1] as string, 'base64url').toString());
    expect(payload.sid).toEqual(expect.any(String));
    expect((await b.fetch('/api/profile')).status).toBe(200);
    // Header.payload alone (what XSS could read) is useless.
    const onlyHp = await t.request('/api/profile', { headers: { cookie: `__Host-tw_at_hp=${hp?.value}` } });
    expect(onlyHp.status).toBe(401);
    // A tampered payload with the real signature fails.
    const forgedPayload = Buffer.from(JSON.stringify({ ...payload, sub: 'someone-else' })).toString('base64url');
    const tampered = await t.request('/api/profile', {
      headers: {
        cookie: `__Host-tw_at_hp=${hp?.value.split('.')[0]}.${forgedPayload}; __Host-tw_at_sig=${sig?.value}`,
      },
    });
    expect(tampered.status).toBe(401);
  });

  it('parent-domain mode: __Secure- cookies with Domain', async () => {
    t = await createTestInstance({ publicOrigin: 'https://app.example.com', cookies: { domain: 'example.com' } });
    const b = new Browser(t.request, 'https://app.example.com');
    const { response } = await signup(b);
    const c = parseSetCookies(response);
    for (const name of ['__Secure-tw_at', '__Secure-tw_rt', '__Secure-tw_csrf', '__Secure-tw_dev']) {
      expect(c.get(name)?.attributes.get('domain'), name).toBe('example.com');
      expect(c.get(name)?.attributes.get('secure'), name).toBe(true);
    }
    expect([...c.keys()].some((n) => n.startsWith('__Host-'))).toBe(false);
    const out = await b.fetch('/auth/logout', { method: 'POST' });
    expect(parseSetCookies(out).get('__Secure-tw_at')?.attributes.get('domain')).toBe('example.com');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
  });

  it('insecure mode: no prefixes, no Secure, only on a non-localhost http origin', async () => {
    t = await createTestInstance({ publicOrigin: 'http://intranet.corp:8080', insecureHttp: true });
    const { response } = await signup(new Browser(t.request, 'http://intranet.corp:8080'));
    const c = parseSetCookies(response);
    expect([...c.keys()].sort()).toEqual(['tw_at', 'tw_csrf', 'tw_dev', 'tw_rt']);
    for (const v of c.values()) expect(v.attributes.has('secure')).toBe(false);
  });

  it('insecure mode is refused for https and for localhost, and plain http needs it', () => {
    expect(() => resolveConfig({ publicOrigin: 'https://app.example.com', insecureHttp: true })).toThrow(
      /insecureHttp/,
    );
    expect(() => resolveConfig({ publicOrigin: 'http://localhost:3000', insecureHttp: true })).toThrow(/insecureHttp/);
    expect(() => resolveConfig({ publicOrigin: 'http://app.example.com' })).toThrow(/publicOrigin/);
  });
});

describe('configuration errors name the option', () => {
  it.each([
    [{ accessTtl: 'ten minutes' }, /accessTtl \(env TOKENWARD_ACCESS_TTL\)/],
    [{ publicOrigin: 'not a url' }, /publicOrigin/],
    [{ publicOrigin: 'https://app.example.com/path' }, /publicOrigin/],
    [{ limitLoginPerIp: '100 per minute' }, /limitLoginPerIp/],
    [{ secret: 'short' }, /secret/],
    [{ databaseUrl: 'mysql://x' }, /databaseUrl/],
    [{ cookies: { domain: 'other.com' }, publicOrigin: 'https://app.example.com' }, /cookies.domain/],
    [{ algorithm: 'HS256' }, /algorithm/],
    [{ bogus: 1 }, /unknown option/],
  ] as const)('%j', (options, message) => {
    expect(() => resolveConfig(options as never)).toThrow(message);
  });

  it('reads env names and duration strings', () => {
    const config = resolveConfig(
      {},
      {
        env: {
          PORT: '4000',
          TOKENWARD_ACCESS_TTL: '5m',
          TOKENWARD_REFRESH_IDLE: '7d',
          TOKENWARD_LIMIT_LOGIN_PER_IP: '10/1m',
          TOKENWARD_TRUSTED_ORIGINS: 'https://a.example, https://b.example',
          TOKENWARD_COOKIES_SPLIT: 'true',
        },
      },
    );
    expect(config.port).toBe(4000);
    expect(config.publicOrigin).toBe('http://localhost:4000');
    expect(config.accessTtlSec).toBe(300);
    expect(config.refreshIdleSec).toBe(7 * 86400);
    expect(config.limits.loginPerIp).toEqual({ count: 10, windowSec: 60 });
    expect(config.trustedOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.cookies.split).toBe(true);
  });
});

describe('cookie budget (DESIGN.md: refuse to start rather than set a cookie browsers drop)', () => {
  /** An https origin of `labels` 62-character DNS labels (a long but valid host name). */
  const longOrigin = (labels: number) => `https://${`${'a'.repeat(62)}.`.repeat(labels)}example.com`;

  it('counts client_id: the largest origin that starts still sets every access-token cookie within 4096 bytes, even with a 128-character native client_id', async () => {
    const origin = longOrigin(13);
    t = await createTestInstance({ publicOrigin: origin });
    const b = new Browser(t.request, origin);
    const { response } = await signup(b);
    const at = parseSetCookies(response).get('__Host-tw_at');
    expect(at?.raw.length).toBeLessThanOrEqual(4096);
    expect(JSON.parse(Buffer.from((at?.value ?? '').split('.')[1] as string, 'base64url').toString()).client_id).toBe(
      origin,
    );
    // A native session's refresh token presented through the cookie transport: its tokens keep the native client_id.
    const email = `budget-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await signup(new Browser(t.request, origin), email);
    const native = await t.request('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: email,
        password: 'correct horse battery staple',
        client_id: 'c'.repeat(128),
      }).toString(),
    });
    expect(native.status).toBe(200);
    const { refresh_token } = (await native.json()) as { refresh_token: string };
    const viaCookie = await t.request('/auth/refresh', {
      method: 'POST',
      headers: { cookie: `__Secure-tw_rt=${refresh_token}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(viaCookie.status).toBe(200);
    expect(parseSetCookies(viaCookie).get('__Host-tw_at')?.raw.length).toBeLessThanOrEqual(4096);
  });

  it('an origin whose access tokens (iss, aud and client_id) would overflow the cookie refuses to start, naming the option', async () => {
    await expect(createTestInstance({ publicOrigin: longOrigin(14) })).rejects.toThrow(
      /Cookie budget exceeded.*publicOrigin/,
    );
  });
});
