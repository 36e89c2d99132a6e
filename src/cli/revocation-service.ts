import { destination, pino } from 'pino';
import type { TokenwardConfig } from '../config.js';
import { optionsFromFile } from '../config.js';
import { createTokenward } from '../create-tokenward.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Store } from '../kernel/ports.js';
import { assertStoreExists } from './admin-store.js';

/** The service an administrator's revocation goes through, with its store. */
export interface RevocationService {
  service: Kernel;
  store: Store;
  close(): Promise<void>;
}

/**
 * Builds the same {@link Kernel} the servers run (same store, same Redis bus when
 * TOKENWARD_REDIS_URL is set), so that an administrator's revocation takes the path of a user's
 * logout-all: the store records the revocation rows that every node polls (≤ 1 s), the bus
 * pushes them at once, and an event with reason `admin` lands in the user's audit trail.
 * Logs only errors, to stderr.
 *
 * @example
 * ```ts
 * const admin = await openRevocationService(config);
 * try { await admin.service.revokeUserSessions(userId, 'admin', null); } finally { await admin.close(); }
 * ```
 */
export async function openRevocationService(config: TokenwardConfig): Promise<RevocationService> {
  assertStoreExists(config);
  const tw = await createTokenward(
    {},
    { env: process.env, file: optionsFromFile(), logger: pino({ level: 'error', base: null }, destination(2)) },
  );
  return { service: tw.context.kernel, store: tw.context.store, close: () => tw.close() };
}
