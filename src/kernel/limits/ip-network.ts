import ipaddr from 'ipaddr.js';
import type { Limiter, LimitResult } from '../ports.js';

/** How per-IP limits group addresses (DESIGN.md `TOKENWARD_IP_PREFIX_V6`). */
export interface IpNetworkPolicy {
  /** IPv6 addresses are limited per network of this prefix length (default 64: one customer's LAN). */
  ipv6Prefix: number;
  /**
   * An optional coarser IPv6 bucket (e.g. 48, one site) that every per-IP limit also counts, with
   * {@link WIDE_BUCKET_FACTOR} times the budget: one host can cycle through many /64s of its /48.
   */
  ipv6WidePrefix: number | null;
}

/** The wide IPv6 bucket allows this many times the per-network limit. */
export const WIDE_BUCKET_FACTOR = 16;

function maskedV6(address: ipaddr.IPv6, prefix: number): string {
  const bytes = address.toByteArray();
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${(ipaddr.fromByteArray(bytes) as ipaddr.IPv6).toNormalizedString()}/${prefix}`;
}

/**
 * The networks an address is limited by: `v4:a.b.c.d` for IPv4 (an IPv4-mapped IPv6 address is
 * folded to its IPv4 address), `v6:<network>/<prefix>` for IPv6 (plus the wide bucket when
 * configured). Parsed with a real address parser, so every spelling of one address — `FD00::11`,
 * `fd00:0:0:0::11`, zone ids, mapped forms — gives the same key. Something that is not an IP
 * address (a socket without one, a malformed forwarded header) is its own key, so it is still
 * limited, never exempt.
 *
 * @example
 * ```ts
 * ipLimitKeys('FD00::11', { ipv6Prefix: 64, ipv6WidePrefix: null }); // ['v6:fd00:0:0:0:0:0:0:0/64']
 * ipLimitKeys('::ffff:203.0.113.9', policy); // ['v4:203.0.113.9']
 * ```
 */
export function ipLimitKeys(ip: string, policy: IpNetworkPolicy): string[] {
  const text = ip
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  if (!ipaddr.isValid(text)) return [`raw:${text.slice(0, 64)}`];
  let address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress())
    address = (address as ipaddr.IPv6).toIPv4Address();
  if (address.kind() === 'ipv4') return [`v4:${address.toNormalizedString()}`];
  const v6 = address as ipaddr.IPv6;
  const keys = [`v6:${maskedV6(v6, policy.ipv6Prefix)}`];
  if (policy.ipv6WidePrefix !== null) keys.push(`v6w:${maskedV6(v6, policy.ipv6WidePrefix)}`);
  return keys;
}

/** The address in its canonical text form (IPv4-mapped folded to IPv4), for sessions and events. */
export function canonicalIp(ip: string): string {
  const text = ip
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  if (!ipaddr.isValid(text)) return text.slice(0, 64);
  const address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress())
    return (address as ipaddr.IPv6).toIPv4Address().toString();
  return address.toString();
}

/**
 * Counts one hit of a per-IP limit (`scope`, e.g. `login`) against every network of the address;
 * refused when any of them is over its budget (Retry-After: the longest wait).
 */
export async function consumeIpLimit(
  limiter: Limiter,
  scope: string,
  ip: string,
  rate: { count: number; windowSec: number },
  policy: IpNetworkPolicy,
): Promise<LimitResult> {
  let refused: LimitResult | null = null;
  for (const key of ipLimitKeys(ip, policy)) {
    const count = key.startsWith('v6w:') ? rate.count * WIDE_BUCKET_FACTOR : rate.count;
    const result = await limiter.consume(`${scope}:ip:${key}`, count, rate.windowSec);
    if (!result.allowed && (refused === null || result.retryAfterSec > refused.retryAfterSec)) refused = result;
  }
  return refused ?? { allowed: true, retryAfterSec: 0 };
}
