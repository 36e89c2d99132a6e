import { describe, expect, it } from 'vitest';
import { describeUserAgent, deviceFingerprint, ipPrefix } from '../../src/kernel/sessions/device.js';

describe('device › ipPrefix', () => {
  it.each([
    ['203.0.113.7', '203.0.113'],
    ['10.0.0.255', '10.0.0'],
    ['2001:db8:1234:1::7', '2001:db8:1234'],
    ['2001:0db8:0abc:ffff:1:2:3:4', '2001:db8:abc'],
    ['2001:db8::1', '2001:db8:0'],
    ['::1', '0:0:0'],
    ['fe80::1%eth0', 'fe80:0:0'],
    ['unknown', 'unknown'],
  ])('%s → %s', (ip, prefix) => {
    expect(ipPrefix(ip)).toBe(prefix);
  });
});

describe('device › describeUserAgent', () => {
  it('names browser and OS with bowser', () => {
    expect(describeUserAgent('Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0')).toEqual({
      browser: 'Firefox',
      os: 'Linux',
      label: 'Firefox on Linux',
    });
  });

  it('never throws: empty, garbage and huge values are an unknown device', () => {
    expect(describeUserAgent('')).toEqual({ browser: null, os: null, label: 'Unknown device' });
    expect(describeUserAgent('   ').label).toBe('Unknown device');
    expect(() => describeUserAgent('\u0000'.repeat(10_000))).not.toThrow();
    expect(describeUserAgent('curl/8.0').label).toEqual(expect.any(String));
  });
});

describe('device › deviceFingerprint', () => {
  const chrome = (v: string) =>
    `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v} Safari/537.36`;
  it('ignores the browser version and the host part of the address', () => {
    expect(deviceFingerprint(chrome('120.0.0.0'), '203.0.113.7')).toBe(
      deviceFingerprint(chrome('121.0.0.0'), '203.0.113.200'),
    );
  });
  it('differs by network, browser family or OS', () => {
    const base = deviceFingerprint(chrome('120.0.0.0'), '203.0.113.7');
    expect(deviceFingerprint(chrome('120.0.0.0'), '203.0.114.7')).not.toBe(base);
    expect(
      deviceFingerprint(
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:120.0) Gecko/20100101 Firefox/120.0',
        '203.0.113.7',
      ),
    ).not.toBe(base);
    expect(
      deviceFingerprint(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
        '203.0.113.7',
      ),
    ).not.toBe(base);
  });
});
