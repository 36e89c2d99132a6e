import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenwardConfig } from '../config.js';
import type { Store } from '../kernel/ports.js';
import { openStore, SQLITE_FILE_NAME } from '../store/index.js';

/** A failure the CLI reports in one line and exits 1 for (a missing user, store or session). */
export class CliFailure extends Error {}

/**
 * Opens the configured store for an administration command. Unlike the server it never creates
 * an embedded store: a data directory without `tokenward.db` is almost always a wrong
 * TOKENWARD_DATA_DIR or working directory, and an empty new store would only hide that.
 *
 * @example
 * ```ts
 * const store = await openExistingStore(config);
 * try { console.log((await store.listUsers({ limit: 10 })).users); } finally { await store.close(); }
 * ```
 */
export async function openExistingStore(config: TokenwardConfig): Promise<Store> {
  assertStoreExists(config);
  return openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
}

/** Throws {@link CliFailure} when the embedded store the configuration points at does not exist. */
export function assertStoreExists(config: TokenwardConfig): void {
  if (config.databaseUrl !== undefined) return;
  const file = join(config.dataDir, SQLITE_FILE_NAME);
  if (!existsSync(file)) {
    throw new CliFailure(
      `no embedded store at ${file}: set TOKENWARD_DATA_DIR (or TOKENWARD_DATABASE_URL) as for the server, or run the command where the server runs`,
    );
  }
}
