// The passkeys table: one conformance suite, run on the in-memory store, a real SQLite file and a
// real PostgreSQL (two handles on one database where the backend has connections to race on).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type Passkey, type PasskeyStore, passkeyStoreFor } from '../../../src/features/passkeys/store.js';
import type { Store } from '../../../src/kernel/ports.js';
import { createMemoryStore } from '../../../src/store/memory/memory-store.js';
import { openPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { sqlAccessOf } from '../../../src/store/sql-access.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';

const NOW = Date.UTC(2026, 0, 1);

interface Handles {
  a: PasskeyStore;
  b: PasskeyStore;
  /** Creates a user row (the passkeys table references users). */
  user: () => Promise<string>;
  /** Deletes a user row directly (what account deletion does), or null where there are no foreign keys. */
  deleteUser: ((id: string) => Promise<void>) | null;
  close: () => Promise<void>;
}

function handles(stores: Store[], close: () => Promise<void>): Handles {
  const [first, second] = stores as [Store, Store];
  const access = sqlAccessOf(first);
  return {
    a: passkeyStoreFor(first),
    b: passkeyStoreFor(second),
    user: async () => {
      const id = randomUUID();
      const user = { id, email: `${id}@example.com`, emailVerified: false, name: null, createdAt: NOW };
      expect(await first.createUser(user, 'not-a-hash')).toBe('ok');
      return id;
    },
    deleteUser:
      access === null ? null : async (id) => void (await sql`delete from users where id = ${id}`.execute(access.db)),
    close,
  };
}

function passkey(userId: string, overrides: Partial<Passkey> = {}): Passkey {
  return {
    id: randomUUID(),
    userId,
    credentialId: Buffer.from(randomUUID()).toString('base64url'),
    publicKey: 'pQECAyYgASFYIA',
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'singleDevice',
    backedUp: false,
    aaguid: '00000000-0000-0000-0000-000000000000',
    name: 'Laptop',
    createdAt: NOW,
    lastUsedAt: null,
    ...overrides,
  };
}

function describePasskeyStore(name: string, open: (() => Promise<Handles>) | null): void {
  if (open === null) {
    describe.skip(`passkey store (${name}): skipped because TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)`, () => {
      it('runs the passkey store conformance suite', () => {});
    });
    return;
  }
  describe(`passkey store (${name})`, () => {
    it('stores, lists (oldest first), finds by credential id and per user', async () => {
      const h = await open();
      try {
        const user = await h.user();
        const first = passkey(user, { createdAt: NOW, counter: 7, backedUp: true, deviceType: 'multiDevice' });
        const second = passkey(user, { createdAt: NOW + 1 });
        expect(await h.a.add(second)).toBe('ok');
        expect(await h.a.add(first)).toBe('ok');
        expect(await h.b.listForUser(user)).toEqual([first, second]);
        expect(await h.b.countForUser(user)).toBe(2);
        expect(await h.b.findByCredentialId(first.credentialId)).toEqual(first);
        expect(await h.b.findForUser(user, second.id)).toEqual(second);
        expect(await h.b.findForUser(await h.user(), second.id)).toBeNull();
        expect(await h.b.findByCredentialId('unknown')).toBeNull();
      } finally {
        await h.close();
      }
    });

    it('a credential id belongs to one passkey, across users: the second add is credential_taken, also when racing', async () => {
      const h = await open();
      try {
        const [alice, bob] = [await h.user(), await h.user()];
        const original = passkey(alice);
        expect(await h.a.add(original)).toBe('ok');
        expect(await h.b.add(passkey(bob, { credentialId: original.credentialId }))).toBe('credential_taken');
        const credentialId = Buffer.from(randomUUID()).toString('base64url');
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 ? h.a : h.b).add(passkey(i % 3 ? alice : bob, { credentialId }))),
        );
        expect(results.filter((r) => r === 'ok')).toHaveLength(1);
        expect((await h.a.listForUser(alice)).length + (await h.a.listForUser(bob)).length).toBe(2);
      } finally {
        await h.close();
      }
    });

    it('rename and delete act on the owner’s passkey only', async () => {
      const h = await open();
      try {
        const [alice, bob] = [await h.user(), await h.user()];
        const p = passkey(alice);
        await h.a.add(p);
        expect(await h.b.rename(bob, p.id, 'stolen')).toBeNull();
        expect(await h.b.delete(bob, p.id)).toBe(false);
        expect((await h.a.rename(alice, p.id, 'Phone'))?.name).toBe('Phone');
        expect(await h.a.delete(alice, p.id)).toBe(true);
        expect(await h.a.delete(alice, p.id)).toBe(false);
        expect(await h.a.countForUser(alice)).toBe(0);
      } finally {
        await h.close();
      }
    });

    it('recordUse advances the counter only forward (0 stays allowed only while the stored one is 0)', async () => {
      const h = await open();
      try {
        const user = await h.user();
        const counted = passkey(user, { counter: 5 });
        const uncounted = passkey(user, { counter: 0 });
        await h.a.add(counted);
        await h.a.add(uncounted);
        expect(await h.a.recordUse(counted.id, { counter: 5, backedUp: false, at: NOW + 1 })).toBe(false);
        expect(await h.a.recordUse(counted.id, { counter: 4, backedUp: false, at: NOW + 1 })).toBe(false);
        expect(await h.a.recordUse(counted.id, { counter: 0, backedUp: false, at: NOW + 1 })).toBe(false);
        expect((await h.b.findForUser(user, counted.id))?.lastUsedAt).toBeNull();
        expect(await h.a.recordUse(counted.id, { counter: 9, backedUp: true, at: NOW + 2 })).toBe(true);
        expect(await h.b.findForUser(user, counted.id)).toMatchObject({
          counter: 9,
          backedUp: true,
          lastUsedAt: NOW + 2,
        });
        expect(await h.a.recordUse(uncounted.id, { counter: 0, backedUp: false, at: NOW + 3 })).toBe(true);
        expect(await h.a.recordUse(uncounted.id, { counter: 0, backedUp: false, at: NOW + 4 })).toBe(true);
        expect(await h.a.recordUse(uncounted.id, { counter: 2, backedUp: false, at: NOW + 5 })).toBe(true);
        // Once a counter was seen, 0 is a counter going backwards.
        expect(await h.a.recordUse(uncounted.id, { counter: 0, backedUp: false, at: NOW + 6 })).toBe(false);
      } finally {
        await h.close();
      }
    });

    it('two assertions with the same counter racing on two connections: exactly one advances it', async () => {
      const h = await open();
      try {
        const user = await h.user();
        const p = passkey(user, { counter: 1 });
        await h.a.add(p);
        const results = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            (i % 2 ? h.a : h.b).recordUse(p.id, { counter: 2, backedUp: false, at: NOW }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await h.a.findForUser(user, p.id))?.counter).toBe(2);
      } finally {
        await h.close();
      }
    });

    it('deleting the user deletes its passkeys (ON DELETE CASCADE), nobody else’s', async () => {
      const h = await open();
      try {
        if (h.deleteUser === null) return expect(h.deleteUser).toBeNull();
        const [alice, bob] = [await h.user(), await h.user()];
        await h.a.add(passkey(alice));
        await h.a.add(passkey(bob));
        await h.deleteUser(alice);
        expect(await h.b.countForUser(alice)).toBe(0);
        expect(await h.b.countForUser(bob)).toBe(1);
      } finally {
        await h.close();
      }
    });
  });
}

describePasskeyStore('memory', async () => {
  const store = createMemoryStore();
  return handles([store, store], () => store.close());
});

describePasskeyStore('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-passkeys-'));
  const file = join(dir, 'tokenward.db');
  const stores: Store[] = [await openSqliteStore({ file }), await openSqliteStore({ file })];
  return handles(stores, async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

const url = process.env.TOKENWARD_TEST_DATABASE_URL;
const schema = `tw_passkeys_${process.pid}_${randomUUID().slice(0, 8)}`;
afterAll(async () => {
  if (!url) return;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});
describePasskeyStore(
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
        return handles(stores, async () => {
          for (const s of stores) await s.close();
        });
      }
    : null,
);
