import type { TokenwardConfig } from '../config.js';
import { migrateDatabase } from '../store/index.js';
import type { CliOutput } from './output.js';

/**
 * `tokenward migrate`: applies pending migrations to the configured database (PostgreSQL when
 * `databaseUrl` is set, else the embedded store) and prints what it did and the schema version.
 * Safe to run while servers are up and from several machines at once (migrations take a lock).
 *
 * @example
 * ```ts
 * await migrateCommand(resolveConfig({}, { env: process.env }), { out: console.log, err: console.error });
 * ```
 */
export async function migrateCommand(config: TokenwardConfig, io: CliOutput): Promise<number> {
  io.out(`Migrating ${config.databaseUrl === undefined ? `the embedded store in ${config.dataDir}` : 'PostgreSQL'} …`);
  const report = await migrateDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  io.out(`Database: ${report.target}`);
  if (report.applied.length === 0) {
    io.out('Already up to date: no migration to apply.');
  } else {
    for (const name of report.applied) io.out(`Applied migration ${name}`);
  }
  io.out(
    `Schema version: ${report.migrations.at(-1) ?? '(none)'} (${report.migrations.length} migration${report.migrations.length === 1 ? '' : 's'} applied in total)`,
  );
  return 0;
}
