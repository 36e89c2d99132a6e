/**
 * Pre-account hijacking through SSO linking (API.md "Federated accounts are linked by email …
 * only when both sides have proven the address"). An attacker signs up locally with the
 * victim's address, which nothing proves; the victim later signs in with SSO at a provider
 * configured with `linkVerifiedEmail: true` (as in the staff-SSO example of docs/oidc.md). The
 * victim must not be linked into the attacker's account. Against a real oidc-provider, on the
 * embedded SQLite store and on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/kernel/ports.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { parseSetCookies, signup, type TestInstance } from '../support/instance.js';
import {
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  createOidcInstance,
  json,
  ORIGIN,
  oidcLogin,
  providerFor,
  REDIRECT_URIS,
} from './harness.js';
import { startIdp, type TestIdp } from './idp.js';

const PASSWORD = 'correct horse battery staple';
const databaseUrl = process.env.TOKENWARD_TEST_DATABASE_URL;

let idp: TestIdp;
let other: TestIdp;
let tw: TestInstance | undefined;
const schemas: string[] = [];

beforeAll(async () => {
  const clients = [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: REDIRECT_URIS }];
  [idp, other] = await Promise.all([startIdp({ clients }), startIdp({ clients })]);
});
afterAll(async () => {
  await Promise.all([idp.close(), other.close()]);
  if (databaseUrl && schemas.length > 0) {
    const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
});
afterEach(async () => {
  await tw?.close();
  tw = undefined;
});

/** A store per test: the embedded SQLite file of the test instance, or a fresh PostgreSQL schema. */
const STORES: Array<[string, () => Promise<Store | undefined>]> = [
  ['SQLite', async () => undefined],
  [
    'PostgreSQL',
    async () => {
      if (!databaseUrl) throw new Error('TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)');
      const schema = `tw_oidc_${process.pid}_${randomUUID().slice(0, 8)}`;
      schemas.push(schema);
      return openPostgresStore({ url: databaseUrl, schema, migrate: true });
    },
  ],
];

function sessionCookies(response: Response): string[] {
  return [...parseSetCookies(response)]
    .filter(([name, c]) => /tw_(at|rt|csrf)$/.test(name) && c.value !== '')
    .map(([name]) => name);
}

describe.each(STORES)('oidc › pre-account hijacking through SSO linking (%s)', (_name, openStore) => {
  async function instance(): Promise<TestInstance> {
    const store = await openStore();
    tw = await createOidcInstance(
      {
        oidc: {
          providers: {
            linking: providerFor(idp, { linkVerifiedEmail: true }),
            other: providerFor(other, { linkVerifiedEmail: true }),
          },
        },
      },
      store === undefined ? {} : { store },
    );
    return tw;
  }

  it("pre-account hijacking › an attacker's unverified signup with the victim's email is never linked by SSO: error=oidc_account_exists, no link, no session", async () => {
    const t = await instance();
    const victimEmail = `victim-${randomUUID().slice(0, 8)}@example.com`;
    const sub = `victim-${randomUUID().slice(0, 8)}`;
    idp.accounts.set(sub, { email: victimEmail, email_verified: true, name: 'Victim' });

    // 1. The attacker signs up with the victim's address (nothing proves it) and keeps the session.
    const attacker = new Browser(t.request, ORIGIN);
    const signed = await signup(attacker, victimEmail, PASSWORD);
    expect(signed.response.status).toBe(201);
    const attackerUser = (await json(signed.response)).user as { id: string; emailVerified?: boolean };
    expect(attackerUser.emailVerified).toBe(false);

    // 2. The victim signs in with SSO; the provider asserts email_verified: true.
    const victim = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(victim, idp, { sub, provider: 'linking', returnTo: '/login' });
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/login?error=oidc_account_exists`);
    expect(sessionCookies(callback)).toEqual([]);

    // 3. Nothing was linked, and the victim holds no session (least of all in the attacker's account).
    expect(await t.tw.context.store.findUserByIdentity(idp.issuer, sub)).toBeNull();
    expect((await victim.fetch('/auth/me')).status).toBe(401);
    const attackerMe = await json(await attacker.fetch('/auth/me'));
    expect(attackerMe.user.id).toBe(attackerUser.id);
    expect((await json(await attacker.fetch('/auth/events'))).events.map((e) => e.type)).not.toContain('oidc.linked');
    const sessions = await t.tw.context.store.listActiveSessions(attackerUser.id, Date.now());
    expect(sessions.map((s) => s.amr)).toEqual([['pwd']]);
  });

  it('a local account whose email an earlier verified identity proved is linked by email (linkVerifiedEmail)', async () => {
    const t = await instance();
    const email = `staff-${randomUUID().slice(0, 8)}@example.com`;
    const first = `staff-${randomUUID().slice(0, 8)}`;
    const second = `staff-${randomUUID().slice(0, 8)}`;
    other.accounts.set(first, { email, email_verified: true, name: 'Staff' });
    idp.accounts.set(second, { email, email_verified: true, name: 'Staff' });

    // The account is created by a verified federated identity: its email is verified.
    const laptop = new Browser(t.request, ORIGIN);
    expect((await oidcLogin(laptop, other, { sub: first, provider: 'other' })).callback.headers.get('location')).toBe(
      `${ORIGIN}/dashboard`,
    );
    const created = await json(await laptop.fetch('/auth/me'));
    expect(created.user).toMatchObject({ email, emailVerified: true });

    // A second provider asserting the same verified email links to it.
    const phone = new Browser(t.request, ORIGIN);
    const { callback } = await oidcLogin(phone, idp, { sub: second, provider: 'linking' });
    expect(callback.headers.get('location')).toBe(`${ORIGIN}/dashboard`);
    expect((await json(await phone.fetch('/auth/me'))).user.id).toBe(created.user.id);
    expect((await t.tw.context.store.findUserByIdentity(idp.issuer, second))?.id).toBe(created.user.id);
    expect((await json(await phone.fetch('/auth/events'))).events.map((e) => e.type)).toContain('oidc.linked');
  });
});
