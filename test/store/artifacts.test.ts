// The artifacts table (single-use email links, OAuth codes, WebAuthn challenges): one conformance
// suite, run on the in-memory store, a real SQLite file and a real PostgreSQL.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact, ArtifactStore, Store } from '../../src/kernel/ports.js';
import { artifactStoreFor } from '../../src/store/artifacts/index.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const NOW = Date.UTC(2026, 0, 1);

function artifact(overrides: Partial<Omit<Artifact, 'consumedAt'>> = {}): Omit<Artifact, 'consumedAt'> {
  return {
    kind: 'password-reset',
    hash: randomUUID(),
    userId: 'user-1',
    sessionId: null,
    data: { email: 'a@example.com', n: 1 },
    createdAt: NOW,
    expiresAt: NOW + 60_000,
    ...overrides,
  };
}

/** Opens two handles on one backend (two pools/connections where the backend has them). */
type Open = () => Promise<{ a: ArtifactStore; b: ArtifactStore; close: () => Promise<void> }>;

function describeArtifactConformance(name: string, open: Open | null): void {
  if (open === null) {
    describe.skip(`artifacts (${name}): skipped because TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)`, () => {
      it('runs the artifact conformance suite', () => {});
    });
    return;
  }
  describe(`artifacts (${name})`, () => {
    it('consume returns the artifact once; find still reads it, with consumedAt set', async () => {
      const { a, close } = await open();
      try {
        const x = artifact();
        await a.put(x);
        expect(await a.find(x.kind, x.hash)).toMatchObject({ ...x, consumedAt: null });
        const consumed = await a.consume(x.kind, x.hash, NOW + 1);
        expect(consumed).toMatchObject({ ...x, consumedAt: NOW + 1 });
        expect(await a.consume(x.kind, x.hash, NOW + 2)).toBeNull();
        expect((await a.find(x.kind, x.hash))?.consumedAt).toBe(NOW + 1);
      } finally {
        await close();
      }
    });

    it('an expired, unknown or other-kind artifact is never consumed', async () => {
      const { a, close } = await open();
      try {
        const x = artifact();
        await a.put(x);
        expect(await a.consume('magic-link', x.hash, NOW + 1)).toBeNull();
        expect(await a.find('magic-link', x.hash)).toBeNull();
        expect(await a.consume(x.kind, randomUUID(), NOW + 1)).toBeNull();
        expect(await a.consume(x.kind, x.hash, x.expiresAt)).toBeNull();
        // Still unconsumed: the failed attempts changed nothing.
        expect((await a.find(x.kind, x.hash))?.consumedAt).toBeNull();
      } finally {
        await close();
      }
    });

    it('two concurrent consumes (on two connections): exactly one wins; 20 at once: exactly one', async () => {
      const { a, b, close } = await open();
      try {
        const x = artifact();
        await a.put(x);
        const two = await Promise.all([a.consume(x.kind, x.hash, NOW + 1), b.consume(x.kind, x.hash, NOW + 1)]);
        expect(two.filter((r) => r !== null)).toHaveLength(1);
        const y = artifact();
        await a.put(y);
        const many = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume(y.kind, y.hash, NOW + 1)),
        );
        expect(many.filter((r) => r !== null)).toHaveLength(1);
      } finally {
        await close();
      }
    });

    it("deleteForUser removes that user's artifacts (of the given kinds), nobody else's", async () => {
      const { a, close } = await open();
      try {
        const user = randomUUID();
        const reset = artifact({ userId: user });
        const verify = artifact({ userId: user, kind: 'email-verify' });
        const other = artifact({ userId: randomUUID() });
        for (const x of [reset, verify, other]) await a.put(x);
        expect(await a.deleteForUser(user, ['password-reset'])).toBe(1);
        expect(await a.find(reset.kind, reset.hash)).toBeNull();
        expect(await a.find(verify.kind, verify.hash)).not.toBeNull();
        expect(await a.deleteForUser(user)).toBe(1);
        expect(await a.find(other.kind, other.hash)).not.toBeNull();
      } finally {
        await close();
      }
    });

    it('prune deletes what expired before the cut-off, and nothing else', async () => {
      const { a, close } = await open();
      try {
        const old = artifact({ expiresAt: NOW - 10 });
        const live = artifact({ expiresAt: NOW + 10 });
        await a.put(old);
        await a.put(live);
        expect(await a.prune(NOW)).toBeGreaterThanOrEqual(1);
        expect(await a.find(old.kind, old.hash)).toBeNull();
        expect(await a.find(live.kind, live.hash)).not.toBeNull();
      } finally {
        await close();
      }
    });

    it('a hash is unique: putting it twice throws', async () => {
      const { a, close } = await open();
      try {
        const x = artifact();
        await a.put(x);
        await expect(a.put(x)).rejects.toThrow();
      } finally {
        await close();
      }
    });
  });
}

describeArtifactConformance('memory', async () => {
  const store = createMemoryStore();
  return { a: artifactStoreFor(store), b: artifactStoreFor(store), close: () => store.close() };
});

describeArtifactConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-artifacts-'));
  const file = join(dir, 'tokenward.db');
  const stores: Store[] = [await openSqliteStore({ file }), await openSqliteStore({ file })];
  return {
    a: artifactStoreFor(stores[0] as Store),
    b: artifactStoreFor(stores[1] as Store),
    close: async () => {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const url = process.env.TOKENWARD_TEST_DATABASE_URL;
const schema = `tw_artifacts_${process.pid}_${randomUUID().slice(0, 8)}`;
afterAll(async () => {
  if (!url) return;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});
describeArtifactConformance(
  'postgres',
  url
    ? async () => {
        const admin = new pg.Pool({ connectionString: url, max: 1 });
        await admin.query(`create schema if not exists ${schema}`);
        await admin.end();
        const stores = [
          await openPostgresStore({ url, schema, migrate: true, poolSize: 4 }),
          await openPostgresStore({ url, schema, migrate: true, poolSize: 4 }),
        ];
        return {
          a: artifactStoreFor(stores[0] as Store),
          b: artifactStoreFor(stores[1] as Store),
          close: async () => {
            for (const s of stores) await s.close();
          },
        };
      }
    : null,
);
