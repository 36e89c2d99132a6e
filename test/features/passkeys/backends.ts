import { randomBytes } from 'node:crypto';
import type { TokenwardOptions } from '../../../src/config.js';
import { ScratchDatabases } from '../../cli/pg-database.js';

/**
 * The stores a feature's HTTP suite runs on, in process: a real SQLite file (createTestInstance's
 * default) and a real PostgreSQL (an empty database of its own on the test server). PostgreSQL
 * is null when the harness gave none (`npm test` always does).
 */
export interface Backend {
  name: string;
  /** Options for createTestInstance, or null when the backend is unavailable. */
  options(): Promise<TokenwardOptions | null>;
  close(): Promise<void>;
}

export function backends(label: string): Backend[] {
  const base = process.env.TOKENWARD_TEST_DATABASE_URL;
  let databases: ScratchDatabases | undefined;
  return [
    { name: 'sqlite', options: async () => ({}), close: async () => {} },
    {
      name: 'postgres',
      options: async () => {
        if (!base) return null;
        databases ??= new ScratchDatabases(base);
        return {
          databaseUrl: await databases.create(label),
          secret: randomBytes(48).toString('base64url'),
          autoMigrate: true,
        };
      },
      close: async () => {
        await databases?.dropAll();
      },
    },
  ];
}
