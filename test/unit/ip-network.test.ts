import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { createTokenward } from '../../src/create-tokenward.js';
import { canonicalIp, ipLimitKeys } from '../../src/kernel/limits/ip-network.js';

const V64 = { ipv6Prefix: 64, ipv6WidePrefix: null };

describe('per-IP limit keys › one key per network, whatever the spelling', () => {
  it('IPv4 is keyed by the address', () => {
    expect(ipLimitKeys('203.0.113.9', V64)).toEqual(['v4:203.0.113.9']);
  });

  it('IPv4-mapped IPv6 (any spelling) is the IPv4 address', () => {
    for (const ip of ['::ffff:203.0.113.9', '::FFFF:203.0.113.9', '::ffff:cb00:7109', '0:0:0:0:0:ffff:cb00:7109']) {
      expect(ipLimitKeys(ip, V64), ip).toEqual(['v4:203.0.113.9']);
    }
  });

  it('IPv6 addresses of one /64 share a key; other /64s do not', () => {
    const key = ipLimitKeys('fd00::11', V64);
    for (const ip of [
      'fd00::12',
      'fd00::11:1',
      'fd00:0:0:0::11',
      'FD00::11',
      'fd00:0000:0000:0000:0000:0000:0000:0011',
      '[fd00::11]',
      'fd00::11%eth0',
      'fd00::ffff:ffff:ffff:ffff',
    ]) {
      expect(ipLimitKeys(ip, V64), ip).toEqual(key);
    }
    expect(ipLimitKeys('fd00:0:0:1::11', V64)).not.toEqual(key);
  });

  it('the prefix length is configurable, and the optional wide bucket groups /64s of one /48', () => {
    expect(ipLimitKeys('2001:db8:1:2:3::1', { ipv6Prefix: 56, ipv6WidePrefix: null })).toEqual(
      ipLimitKeys('2001:db8:1:ff::1', { ipv6Prefix: 56, ipv6WidePrefix: null }),
    );
    const wide = { ipv6Prefix: 64, ipv6WidePrefix: 48 };
    const [net1, wide1] = ipLimitKeys('2001:db8:1:1::1', wide);
    const [net2, wide2] = ipLimitKeys('2001:db8:1:2::1', wide);
    expect(net1).not.toEqual(net2);
    expect(wide1).toEqual(wide2);
    expect(wide1).toMatch(/^v6w:/);
  });

  it('something that is not an address is its own key (limited, never exempt)', () => {
    expect(ipLimitKeys('unknown', V64)).toEqual(['raw:unknown']);
    expect(ipLimitKeys('1.2.3.4:5678', V64)).toEqual(['raw:1.2.3.4:5678']);
  });

  it('canonicalIp gives one spelling for sessions and events', () => {
    expect(canonicalIp('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(canonicalIp('FD00:0:0:0::11')).toBe('fd00::11');
  });

  it('a wide prefix that is not shorter than the network prefix fails at start, naming the option', () => {
    expect(() => resolveConfig({ ipPrefixV6: 64, ipPrefixV6Wide: 64 })).toThrow(
      /ipPrefixV6Wide \(env TOKENWARD_IP_PREFIX_V6_WIDE\)/,
    );
    expect(() => resolveConfig({}, { env: { TOKENWARD_IP_PREFIX_V6: '200' } })).toThrow(
      /ipPrefixV6 \(env TOKENWARD_IP_PREFIX_V6\)/,
    );
  });
});

describe('per-IP limits › a server listening on ::1', () => {
  it('clients on the IPv6 loopback are limited by their network (3 logins, then 429)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-v6-'));
    const tw = await createTokenward({
      publicOrigin: 'http://localhost:3000',
      dataDir,
      logLevel: 'silent',
      limitLoginPerIp: '3/15m',
    });
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: tw.app.fetch, port: 0, hostname: '::1' }, () => resolve(s));
    });
    try {
      const { port } = server.address() as AddressInfo;
      const login = (i: number) =>
        fetch(`http://[::1]:${port}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
          body: JSON.stringify({ email: `v6-${i}@example.com`, password: 'wrong password!' }),
        });
      for (let i = 0; i < 3; i++) expect((await login(i)).status).toBe(401);
      const over = await login(3);
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tw.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
