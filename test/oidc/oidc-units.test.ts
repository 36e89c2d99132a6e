import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { OIDC_LOGIN_TTL_SEC, openLoginState, sealLoginState } from '../../src/features/oidc-login/login-state.js';
import { parseReturnTo, withQuery } from '../../src/features/oidc-login/return-to.js';
import { deriveSealKey } from '../../src/kernel/crypto/seal.js';

const ORIGIN = 'https://app.example.com';

describe('oidc › parseReturnTo', () => {
  it('accepts same-origin paths and returns them absolute on the public origin', () => {
    expect(parseReturnTo('/', ORIGIN)).toBe(`${ORIGIN}/`);
    expect(parseReturnTo('/settings?tab=security#totp', ORIGIN)).toBe(`${ORIGIN}/settings?tab=security#totp`);
    expect(parseReturnTo('/a%2F%2Fb', ORIGIN)).toBe(`${ORIGIN}/a%2F%2Fb`);
  });

  it('keeps a path that normalises to //host on this origin', () => {
    const url = new URL(parseReturnTo('/..//evil.example/x', ORIGIN) ?? '');
    expect(url.origin).toBe(ORIGIN);
    expect(url.href).toBe(`${ORIGIN}//evil.example/x`);
  });

  it.each([
    ['scheme-relative', '//evil.example'],
    ['triple slash', '///evil.example'],
    ['slash backslash', '/\\evil.example'],
    ['backslashes', '\\\\evil.example'],
    ['backslash anywhere', '/a\\b'],
    ['absolute https', 'https://evil.example'],
    ['absolute on this origin', `${ORIGIN}/x`],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,x'],
    ['relative', 'dashboard'],
    ['empty', ''],
    ['leading space', ' /x'],
    ['tab (stripped by URL parsers)', '/\t/evil.example'],
    ['newline', '/\n/evil.example'],
    ['CRLF', '/x\r\nSet-Cookie: a=b'],
    ['NUL', '/\u0000'],
    ['DEL', '/\u007f'],
    ['raw non-ASCII', '/caf\u00e9'],
    ['fullwidth solidus', '/\uff0f\uff0fevil.example'],
    ['over 1024 characters', `/${'a'.repeat(1024)}`],
  ])('rejects %s', (_name, value) => {
    expect(parseReturnTo(value, ORIGIN)).toBeNull();
  });

  it('accepts exactly 1024 characters', () => {
    expect(parseReturnTo(`/${'a'.repeat(1023)}`, ORIGIN)).not.toBeNull();
  });

  it('withQuery adds a parameter and keeps the rest', () => {
    expect(withQuery(`${ORIGIN}/login?x=1#f`, 'error', 'oidc_account_exists')).toBe(
      `${ORIGIN}/login?x=1&error=oidc_account_exists#f`,
    );
  });
});

describe('oidc › sealed login state', () => {
  const state = {
    provider: 'test',
    state: 's'.repeat(43),
    nonce: 'n'.repeat(43),
    codeVerifier: 'v'.repeat(43),
    returnTo: `${ORIGIN}/`,
    expiresAt: 1_000_000 + OIDC_LOGIN_TTL_SEC * 1000,
  };

  it('round-trips and hides its content', async () => {
    const key = await deriveSealKey('x'.repeat(32), 'oidc-login');
    const sealed = await sealLoginState(key, state);
    expect(sealed).not.toContain('sss');
    expect(await openLoginState(key, sealed, 1_000_000)).toEqual(state);
  });

  it('is refused once expired, with another key, or when changed', async () => {
    const key = await deriveSealKey('x'.repeat(32), 'oidc-login');
    const sealed = await sealLoginState(key, state);
    expect(await openLoginState(key, sealed, state.expiresAt)).toBeNull();
    expect(await openLoginState(await deriveSealKey('y'.repeat(32), 'oidc-login'), sealed, 1_000_000)).toBeNull();
    expect(await openLoginState(await deriveSealKey('x'.repeat(32), 'pending-login'), sealed, 1_000_000)).toBeNull();
    expect(await openLoginState(key, `${sealed.slice(0, -2)}AA`, 1_000_000)).toBeNull();
    expect(await openLoginState(key, null, 1_000_000)).toBeNull();
    expect(await openLoginState(key, 'v1.x'.repeat(2000), 1_000_000)).toBeNull();
  });
});

describe('oidc › configuration', () => {
  const provider = { issuer: 'https://accounts.example.com', clientId: 'app' };

  it('resolves defaults: scopes openid email profile, linkVerifiedEmail off, timeout 5 s, no providers', () => {
    expect(resolveConfig({}).oidc).toEqual({ providers: {}, timeoutMs: 5000 });
    expect(resolveConfig({ oidc: { providers: { google: provider } } }).oidc.providers.google).toEqual({
      issuer: 'https://accounts.example.com',
      clientId: 'app',
      clientSecret: undefined,
      scopes: ['openid', 'email', 'profile'],
      linkVerifiedEmail: false,
    });
  });

  it('always requests openid', () => {
    expect(
      resolveConfig({ oidc: { providers: { g: { ...provider, scopes: ['email'] } } } }).oidc.providers.g?.scopes,
    ).toEqual(['openid', 'email']);
  });

  it('reads TOKENWARD_OIDC_PROVIDERS as JSON', () => {
    const env = {
      TOKENWARD_OIDC_PROVIDERS: JSON.stringify({
        corp: { ...provider, clientSecret: 's3cret', linkVerifiedEmail: 'true', scopes: 'openid email' },
      }),
    };
    const corp = resolveConfig({}, { env }).oidc.providers.corp;
    expect(corp).toMatchObject({ clientSecret: 's3cret', linkVerifiedEmail: true, scopes: ['openid', 'email'] });
  });

  it.each([
    [
      'a plain http issuer off loopback',
      { providers: { g: { ...provider, issuer: 'http://accounts.example.com' } } },
      /oidc\.providers\.g\.issuer/,
    ],
    [
      'an issuer that is not a URL',
      { providers: { g: { ...provider, issuer: 'accounts' } } },
      /oidc\.providers\.g\.issuer/,
    ],
    [
      'an issuer with a query',
      { providers: { g: { ...provider, issuer: 'https://a.example.com/?x=1' } } },
      /oidc\.providers\.g\.issuer/,
    ],
    ['a missing clientId', { providers: { g: { issuer: provider.issuer } } }, /oidc\.providers\.g\.clientId/],
    [
      'an unknown provider option',
      { providers: { g: { ...provider, clientSecrt: 'x' } } },
      /oidc\.providers\.g.*clientSecrt/,
    ],
    ['a provider name unfit for URLs', { providers: { 'Bad Name': provider } }, /oidc\.providers/],
    ['a timeout over 60 s', { providers: {}, timeout: 120 }, /oidc\.timeout/],
  ])('refuses %s with a ConfigError naming the option', (_name, oidc, message) => {
    expect(() => resolveConfig({ oidc } as never)).toThrow(ConfigError);
    expect(() => resolveConfig({ oidc } as never)).toThrow(message);
  });

  it('refuses TOKENWARD_OIDC_PROVIDERS that is not JSON', () => {
    expect(() => resolveConfig({}, { env: { TOKENWARD_OIDC_PROVIDERS: '{nope' } })).toThrow(
      /oidc\.providers.*TOKENWARD_OIDC_PROVIDERS/,
    );
  });

  it('allows http issuers on loopback (local identity providers, tests)', () => {
    expect(
      resolveConfig({ oidc: { providers: { dev: { ...provider, issuer: 'http://127.0.0.1:8080' } } } }).oidc.providers
        .dev?.issuer,
    ).toBe('http://127.0.0.1:8080');
  });
});
