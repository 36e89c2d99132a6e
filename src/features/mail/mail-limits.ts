import type { KernelConfig } from '../../kernel/config/kernel-config.js';
import { consumeIpLimit } from '../../kernel/limits/ip-network.js';
import type { Limiter } from '../../kernel/ports.js';
import type { MailConfig } from './options.js';

/**
 * API.md "Limits": reset and magic-link mails, 3 per address and 20 per IP network per hour
 * (configurable). Both counters are always counted — also for an address without an account, and
 * when the first already refuses — so the caller does the same work whatever the answer. Shared
 * through the limiter (Redis when configured): every node sees the same counts.
 */
export async function admitMail(
  limiter: Limiter,
  config: { mail: MailConfig; limits: KernelConfig['limits'] },
  scope: string,
  address: string,
  ip: string,
): Promise<{ allowed: boolean; retryAfterSec: number }> {
  const { limitPerAddress, limitPerIp } = config.mail;
  const [byAddress, byIp] = await Promise.all([
    limiter.consume(`mail:${scope}:addr:${address.toLowerCase()}`, limitPerAddress.count, limitPerAddress.windowSec),
    consumeIpLimit(limiter, `mail:${scope}`, ip, limitPerIp, config.limits),
  ]);
  const allowed = byAddress.allowed && byIp.allowed;
  return { allowed, retryAfterSec: allowed ? 0 : Math.max(byAddress.retryAfterSec, byIp.retryAfterSec, 1) };
}
