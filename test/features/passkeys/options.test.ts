// The passkeys options: derived from the public origin (and the parent domain), configurable by
// option or TOKENWARD_PASSKEYS_*; misconfiguration fails at start with one line naming the option
// and its environment variable.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';

const passkeys = (options: Parameters<typeof resolveConfig>[0], env: Record<string, string> = {}) =>
  resolveConfig(options, { env }).passkeys;

describe('passkeys options', () => {
  it('default: on, rpId = the public host, origins = the public origin', () => {
    expect(passkeys({ publicOrigin: 'https://app.example.com' })).toEqual({
      enabled: true,
      rpId: 'app.example.com',
      rpName: 'app.example.com',
      origins: ['https://app.example.com'],
    });
    expect(passkeys({ publicOrigin: 'http://localhost:3000' })).toMatchObject({
      enabled: true,
      rpId: 'localhost',
      origins: ['http://localhost:3000'],
    });
  });

  it('parent-domain mode: rpId = cookies.domain; trusted origins under it are allowed, others left out', () => {
    expect(
      passkeys({
        publicOrigin: 'https://app.example.com',
        cookies: { domain: 'example.com' },
        trustedOrigins: ['https://admin.example.com', 'https://partner.example.org', 'http://localhost:5173'],
      }),
    ).toMatchObject({ rpId: 'example.com', origins: ['https://app.example.com', 'https://admin.example.com'] });
  });

  it('off by default where browsers refuse WebAuthn: an IP address, plain http on a LAN name', () => {
    expect(passkeys({ publicOrigin: 'http://127.0.0.1:3000' }).enabled).toBe(false);
    expect(passkeys({ publicOrigin: 'http://intranet.lan', insecureHttp: true }).enabled).toBe(false);
  });

  it('from the environment: TOKENWARD_PASSKEYS, _RP_ID, _RP_NAME, _ORIGINS', () => {
    expect(
      passkeys(
        { publicOrigin: 'https://app.example.com' },
        {
          TOKENWARD_PASSKEYS_RP_ID: 'example.com',
          TOKENWARD_PASSKEYS_RP_NAME: 'Example',
          TOKENWARD_PASSKEYS_ORIGINS: 'https://app.example.com, https://www.example.com',
        },
      ),
    ).toEqual({
      enabled: true,
      rpId: 'example.com',
      rpName: 'Example',
      origins: ['https://app.example.com', 'https://www.example.com'],
    });
    expect(passkeys({ publicOrigin: 'https://app.example.com' }, { TOKENWARD_PASSKEYS: 'false' }).enabled).toBe(false);
  });

  it.each([
    [
      { publicOrigin: 'http://127.0.0.1:3000', passkeys: { enabled: true } },
      /passkeys\.enabled \(env TOKENWARD_PASSKEYS\)/,
    ],
    [
      { publicOrigin: 'https://app.example.com', passkeys: { rpId: 'example.org' } },
      /passkeys\.rpId \(env TOKENWARD_PASSKEYS_RP_ID\).*not app\.example\.com or a parent/,
    ],
    [
      { publicOrigin: 'https://app.example.com', passkeys: { rpId: 'https://example.com' } },
      /passkeys\.rpId \(env TOKENWARD_PASSKEYS_RP_ID\)/,
    ],
    [{ publicOrigin: 'https://app.example.com', passkeys: { rpId: 'com' } }, /passkeys\.rpId/],
    [
      { publicOrigin: 'https://app.example.com', passkeys: { origins: ['https://evil.example'] } },
      /passkeys\.origins \(env TOKENWARD_PASSKEYS_ORIGINS\).*under the RP ID/,
    ],
    [
      { publicOrigin: 'https://app.example.com', passkeys: { origins: ['http://app.example.com'] } },
      /passkeys\.origins/,
    ],
    [
      { publicOrigin: 'https://app.example.com', passkeys: { origins: ['https://app.example.com/path'] } },
      /passkeys\.origins/,
    ],
    [{ publicOrigin: 'https://app.example.com', passkeys: { origins: 'not a url' } }, /passkeys\.origins/],
    [{ publicOrigin: 'https://app.example.com', passkeys: { colour: 'blue' } }, /passkeys.*unknown option/],
  ] as const)('refuses %j at start, naming the option', (options, message) => {
    let error: unknown;
    try {
      resolveConfig(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });
});
