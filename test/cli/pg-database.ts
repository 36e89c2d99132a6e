import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * Throwaway databases on the shared test PostgreSQL (TOKENWARD_TEST_DATABASE_URL): each test
 * gets an empty database of its own, so "unmigrated" really means unmigrated, and nothing is
 * shared with other test files. Dropped by `dropAll()`.
 */
export class ScratchDatabases {
  readonly #admin: pg.Pool;
  readonly #base: string;
  readonly #created: string[] = [];

  constructor(baseUrl: string) {
    this.#base = baseUrl;
    this.#admin = new pg.Pool({ connectionString: baseUrl, max: 2 });
  }

  /** Creates an empty database and returns its URL. */
  async create(label: string): Promise<string> {
    const name = `tw_${label}_${process.pid}_${randomUUID().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await this.#admin.query(`create database ${name}`);
    this.#created.push(name);
    const url = new URL(this.#base);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** Runs SQL on one of the created databases. */
  async query(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await client.query(text, values);
    } finally {
      await client.end();
    }
  }

  /** Drops every database created here (disconnecting leftover sessions) and closes the pool. */
  async dropAll(): Promise<void> {
    for (const name of this.#created)
      await this.#admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await this.#admin.end();
  }
}
