// Refresh tokens in constant space, a lost answer that is not reuse, and crashes that lose
// nothing (API.md "Tokens"): real server processes on a SQLite file and on PostgreSQL, real
// HTTP, real kill -9.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../src/store/index.js';
import { ScratchDatabases } from '../cli/pg-database.js';
import { PASSWORD } from '../support/account.js';
import { parseSetCookies } from '../support/instance.js';
import { type ServerProcess, startDemoProcess } from '../support/process.js';

const RT = '__Secure-tw_rt';
const DEV = '__Host-tw_dev';
const AT = '__Host-tw_at';

/** One backend: how to start a node on it, and how to count rows. */
interface Backend {
  name: string;
  env: Record<string, string>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-refresh-'));
  return {
    name: 'SQLite',
    env: { TOKENWARD_DATA_DIR: dir },
    count: async (table) => {
      const db = new Database(join(dir, 'tokenward.db'), { readonly: true });
      try {
        return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresBackend(): Promise<Backend | null> {
  const base = process.env.TOKENWARD_TEST_DATABASE_URL;
  if (!base) return null;
  const databases = new ScratchDatabases(base);
  const url = await databases.create('refresh');
  await migrateDatabase({ databaseUrl: url });
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-refresh-pg-'));
  return {
    name: 'PostgreSQL',
    env: {
      TOKENWARD_DATABASE_URL: url,
      TOKENWARD_SECRET: 'refresh-state-test-secret-0123456789abcdefghij',
      TOKENWARD_DATA_DIR: dir,
    },
    count: async (table) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
      } finally {
        await client.end();
      }
    },
    close: async () => {
      rmSync(dir, { recursive: true, force: true });
      await databases.dropAll();
    },
  };
}

const BASE_ENV = {
  TOKENWARD_PUBLIC_ORIGIN: 'http://localhost:3000',
  TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
  TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
  TOKENWARD_LOG_LEVEL: 'error',
  // One second, as in the reproduction: "rotate, drop the answer, retry 2.5 s later".
  TOKENWARD_REFRESH_GRACE: '1',
};

/** A browser: its device cookie and its latest refresh token. */
class Tab {
  constructor(
    readonly node: () => ServerProcess,
    public refresh: string,
    public device: string | null,
    public access: string,
  ) {}

  /** Presents a refresh token (this tab's latest unless given), from this device (or none). */
  async present(
    token = this.refresh,
    device: string | null = this.device,
  ): Promise<{ status: number; code?: string; successor?: string }> {
    const cookie = [`${RT}=${token}`, ...(device ? [`${DEV}=${device}`] : [])].join('; ');
    const response = await fetch(new URL('/auth/refresh', this.node().url), {
      method: 'POST',
      headers: { cookie, 'sec-fetch-site': 'same-origin', 'user-agent': device ? 'Mozilla/5.0 (tab)' : 'curl/8' },
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { code?: string };
    const cookies = parseSetCookies(response);
    const successor = cookies.get(RT)?.value;
    const access = cookies.get(AT)?.value;
    if (response.status === 200 && successor && access) {
      if (token === this.refresh && device === this.device) {
        this.refresh = successor;
        this.access = access;
      }
      return { status: 200, successor };
    }
    return { status: response.status, ...(body.code ? { code: body.code } : {}) };
  }
}

async function signupTab(node: () => ServerProcess): Promise<Tab> {
  const response = await fetch(new URL('/auth/signup', node().url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'user-agent': 'Mozilla/5.0 (tab)' },
    body: JSON.stringify({ email: `rs-${crypto.randomUUID().slice(0, 12)}@example.com`, password: PASSWORD }),
  });
  expect(response.status).toBe(201);
  const cookies = parseSetCookies(response);
  return new Tab(node, cookies.get(RT)?.value ?? '', cookies.get(DEV)?.value ?? null, cookies.get(AT)?.value ?? '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const backends: Array<[string, () => Promise<Backend | null>]> = [
  ['SQLite', sqliteBackend],
  ['PostgreSQL', postgresBackend],
];

describe.each(backends)('refresh state (%s)', { timeout: 180_000 }, (_name, open) => {
  let backend: Backend | null = null;
  let node: ServerProcess | null = null;
  const current = (): ServerProcess => {
    if (node === null)
      throw new Error('TOKENWARD_TEST_DATABASE_URL is not set: run the suite with npm test (it starts PostgreSQL)');
    return node;
  };
  const start = async () => {
    backend ??= await open();
    if (backend === null) return;
    node = await startDemoProcess({ ...BASE_ENV, ...backend.env });
  };
  afterAll(async () => {
    await node?.kill('SIGKILL');
    await backend?.close();
  });

  it('constant space › 2,000 rotations of one session leave the row counts unchanged', async () => {
    await start();
    const tab = await signupTab(current);
    const b = backend as Backend;
    const before = { sessions: await b.count('sessions'), tokens: await b.count('refresh_tokens') };
    for (let i = 0; i < 2000; i++) expect((await tab.present()).status).toBe(200);
    expect({ sessions: await b.count('sessions'), tokens: await b.count('refresh_tokens') }).toEqual(before);
  });

  it('constant space › every one of 50 earlier tokens is still detected as reuse (each revokes its session)', async () => {
    await start();
    const sessions: Array<{ tab: Tab; old: string }> = [];
    for (let k = 0; k < 50; k++) {
      const tab = await signupTab(current);
      const earlier = [tab.refresh];
      for (let i = 0; i < 3; i++) {
        expect((await tab.present()).status).toBe(200);
        earlier.push(tab.refresh);
      }
      sessions.push({ tab, old: earlier[k % 2] as string });
    }
    // Past the grace window, two or more rotations old: reuse from anywhere, the tab's own device included.
    await sleep(1200);
    for (const [k, { tab, old }] of sessions.entries()) {
      expect(await tab.present(old), `session ${k}`).toEqual({ status: 401, code: 'refresh_reused' });
      expect((await tab.present()).code).toBe('session_expired');
    }
  });

  it('lost answer › retried after the grace window from the same device: 200; the unused successor is superseded (reuse if it surfaces)', async () => {
    await start();
    const tab = await signupTab(current);
    const predecessor = tab.refresh;
    // The rotation commits but its answer is lost: the tab never stores this successor.
    const lost = await tab.present(predecessor, tab.device);
    expect(lost.status).toBe(200);
    tab.refresh = predecessor;
    await sleep(2500);
    const retry = await tab.present();
    expect(retry.status).toBe(200);
    expect(retry.successor).not.toBe(lost.successor);
    expect((await tab.present()).status).toBe(200);
    // The superseded successor surfacing later is reuse.
    expect(await tab.present(lost.successor, tab.device)).toEqual({ status: 401, code: 'refresh_reused' });
  });

  it('lost answer › retried after the grace window from another device (or none): 401 refresh_reused, the session is revoked', async () => {
    await start();
    for (const thief of ['another-device-id-000000000000', null]) {
      const tab = await signupTab(current);
      const predecessor = tab.refresh;
      expect((await tab.present()).status).toBe(200);
      await sleep(1500);
      expect(await tab.present(predecessor, thief)).toEqual({ status: 401, code: 'refresh_reused' });
      expect((await tab.present()).code).toBe('session_expired');
    }
  });

  it('a forged token naming a live session is 401 and leaves it live', async () => {
    await start();
    const tab = await signupTab(current);
    // Same shape, same session bytes, another generation and secret: the MAC fails.
    const body = Buffer.from(tab.refresh.slice(4), 'base64url');
    body[20] = (body[20] ?? 0) ^ 1;
    body[30] = (body[30] ?? 0) ^ 0xff;
    const forged = `twr_${body.toString('base64url')}`;
    expect(await tab.present(forged, 'attacker-device-id-0000000000')).toEqual({
      status: 401,
      code: 'refresh_invalid',
    });
    expect(await tab.present(`twr_${'A'.repeat(92)}`, null)).toEqual({ status: 401, code: 'refresh_invalid' });
    expect((await tab.present()).status).toBe(200);
  });

  it('kill -9 in the middle of a refresh storm, restart on the same data: no session lost, no reuse raised', async () => {
    await start();
    const tabs: Tab[] = [];
    for (let i = 0; i < 20; i++) tabs.push(await signupTab(current));
    const REUSE = "events where type = 'refresh.reuse_detected'";
    const reuseBefore = await (backend as Backend).count(REUSE);
    let stop = false;
    const storm = tabs.map(async (tab) => {
      while (!stop) {
        // A refresh whose answer never arrives (the server died) keeps the tab's previous token.
        await tab.present().catch(() => undefined);
      }
    });
    await sleep(1500);
    await current().kill('SIGKILL');
    stop = true;
    await Promise.all(storm);
    node = await startDemoProcess({ ...BASE_ENV, ...(backend as Backend).env });
    // Long after the grace window: a tab whose last answer was lost retries from its device.
    await sleep(1200);
    const results = await Promise.all(tabs.map((tab) => tab.present()));
    expect(results.map((r) => r.status)).toEqual(tabs.map(() => 200));
    expect(await (backend as Backend).count(REUSE)).toBe(reuseBefore);
  });
});
