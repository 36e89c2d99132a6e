// The account itself: export (the user's own data, nothing secret), deletion (step-up; everything
// of the user gone in one transaction, security events kept anonymised), and disabled accounts
// (403 account_disabled at login, refresh and token; every session ended). On the embedded store.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceBrowser,
  expectProblem,
  json,
  loginAs,
  PASSWORD,
  secretOf,
  signupAs,
  stepUp,
  totpCode,
} from '../../support/account.js';
import {
  type Browser,
  createTestInstance,
  parseSetCookies,
  TestClock,
  type TestInstance,
} from '../../support/instance.js';
import { OPEN_MAIL_LIMITS, outboxMail, outboxToken } from '../../support/mail.js';

let t: TestInstance;
const clock = new TestClock(Date.now());
beforeAll(async () => {
  t = await createTestInstance({ mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } }, { clock, listen: false });
});
afterAll(async () => {
  await t.close();
});

function token(body: Record<string, string>): Promise<Response> {
  return t.tw.fetch(
    new Request(new URL('/auth/token', t.tw.config.publicOrigin), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    }),
    { ip: '203.0.113.7' },
  );
}

describe('account › export', () => {
  it('the user, second-factor state, sessions and events — and nothing secret', async () => {
    const a = deviceBrowser(t);
    const { email, userId, sessionId } = await signupAs(a);
    const b = deviceBrowser(t, { ip: '198.51.100.3' });
    expect((await loginAs(b, email)).status).toBe(200);
    expect((await stepUp(a)).status).toBe(200);
    const { otpauthUri } = await json<{ otpauthUri: string }>(await a.fetch('/auth/totp/enroll', { method: 'POST' }));
    const secret = secretOf(otpauthUri);
    expect(
      (await a.fetch('/auth/totp/confirm', { method: 'POST', json: { code: totpCode(secret, clock.now()) } })).status,
    ).toBe(200);
    const response = await a.fetch('/auth/account/export');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="account-export.json"');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    const data = JSON.parse(text) as {
      user: Record<string, unknown>;
      security: { twoFactor: { totp: boolean } };
      sessions: Array<{ id: string; current: boolean; state: string }>;
      events: Array<{ type: string }>;
    };
    expect(data.user).toMatchObject({ id: userId, email, emailVerified: false });
    expect(data.security.twoFactor.totp).toBe(true);
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions.find((s) => s.current)?.id).toBe(sessionId);
    expect(data.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['user.signup', 'login.success', 'totp.enabled']),
    );
    // No password hash, TOTP secret, token, refresh token, CSRF token, device id or device marker.
    const credentials = await t.tw.context.store.getCredentials(userId);
    const forbidden = [
      credentials?.passwordHash ?? '',
      credentials?.totpSecretSealed ?? '',
      secret,
      ...Object.values(Object.fromEntries(a.cookies)),
      ...Object.values(Object.fromEntries(b.cookies)),
    ].filter((s) => s.length > 8);
    for (const value of forbidden) expect(text).not.toContain(value);
    expect(text).not.toMatch(/\$argon2|twr_|eyJ[A-Za-z0-9_-]{10,}\./);
    const events = await json<{ events: Array<{ type: string }> }>(await a.fetch('/auth/events'));
    expect(events.events.map((e) => e.type)).toContain('account.exported');
  });

  it('needs a session', async () => {
    await expectProblem(await deviceBrowser(t).fetch('/auth/account/export'), 401, 'unauthenticated');
  });
});

describe('account › deletion', () => {
  it('needs a step-up: without one 401 step_up_required and nothing is deleted', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    await expectProblem(await a.fetch('/auth/account', { method: 'DELETE' }), 401, 'step_up_required');
    expect((await loginAs(deviceBrowser(t), email)).status).toBe(200);
  });

  it('deletes the user and everything of theirs in one go, clears the cookies, ends every session', async () => {
    const a = deviceBrowser(t);
    const { email, userId } = await signupAs(a);
    const b = deviceBrowser(t, { ip: '198.51.100.3' });
    expect((await loginAs(b, email)).status).toBe(200);
    await loginAs(deviceBrowser(t), email, 'a wrong password guess');
    // A pending link of the account dies with it.
    await deviceBrowser(t).fetch('/auth/password/forgot', { method: 'POST', json: { email } });
    const link = outboxToken(await outboxMail(t, (m) => m.to === email && /reset/i.test(m.subject)), 'reset-password');
    expect((await stepUp(a)).status).toBe(200);
    const response = await a.fetch('/auth/account', { method: 'DELETE' });
    expect(response.status).toBe(204);
    const cookies = parseSetCookies(response);
    for (const name of ['__Host-tw_at', '__Secure-tw_rt', '__Host-tw_csrf'])
      expect(cookies.get(name)?.attributes.get('max-age')).toBe('0');
    await expectProblem(await a.fetch('/auth/me'), 401, 'unauthenticated');
    await expectProblem(await b.fetch('/auth/me'), 401, 'invalid_token');
    await expectProblem(await b.fetch('/auth/refresh', { method: 'POST' }), 401, 'refresh_invalid');
    await expectProblem(await loginAs(deviceBrowser(t), email), 401, 'invalid_credentials');
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/password/reset', {
        method: 'POST',
        json: { token: link, password: 'whatever it is 55' },
      }),
      400,
      'invalid_link',
    );
    // Nothing in the database points at the user any more; the attack traces stay, anonymised.
    const db = new Database(join(t.dataDir, 'tokenward.db'), { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
      for (const { name } of tables) {
        const columns = db.prepare(`PRAGMA table_info(${name})`).all() as Array<{ name: string }>;
        for (const { name: column } of columns) {
          const hit = db
            .prepare(`SELECT count(*) AS n FROM "${name}" WHERE CAST("${column}" AS TEXT) LIKE ?`)
            .get(`%${userId}%`) as { n: number };
          expect(hit.n, `${name}.${column}`).toBe(0);
        }
      }
      const kept = db
        .prepare(
          "SELECT type, user_id, session_id, data FROM events WHERE type IN ('login.failed', 'account.deleted') AND at >= ?",
        )
        .all(clock.now() - 1000);
      expect(kept).toEqual(
        expect.arrayContaining([
          { type: 'login.failed', user_id: null, session_id: null, data: null },
          { type: 'account.deleted', user_id: null, session_id: null, data: null },
        ]),
      );
    } finally {
      db.close();
    }
    // The address is free again.
    await signupAs(deviceBrowser(t), email);
  });

  it('a second request with the same step-up grant cannot run again', async () => {
    const a = deviceBrowser(t);
    await signupAs(a);
    expect((await stepUp(a)).status).toBe(200);
    const [first, second] = await Promise.all([
      a.fetch('/auth/account', { method: 'DELETE' }),
      a.fetch('/auth/account', { method: 'DELETE' }),
    ]);
    expect([first.status, second.status].sort()).toEqual([204, 401]);
  });
});

describe('account › disabled by an administrator', () => {
  async function disabledUser(): Promise<{ a: Browser; email: string; userId: string; refresh: string }> {
    const a = deviceBrowser(t);
    const { email, userId } = await signupAs(a);
    // A native client's session too (password grant), to try its refresh token after the disabling.
    const issued = await token({ grant_type: 'password', username: email, password: PASSWORD });
    expect(issued.status).toBe(200);
    const tokens = await json<{ refresh_token: string }>(issued);
    expect(await t.tw.context.kernel.setUserDisabled(userId, true, null)).toBe(2);
    return { a, email, userId, refresh: tokens.refresh_token };
  }

  it('every session ends at once; refresh answers 403 account_disabled and clears the cookies', async () => {
    const { a } = await disabledUser();
    await expectProblem(await a.fetch('/auth/me'), 401, 'invalid_token');
    const refresh = await a.fetch('/auth/refresh', { method: 'POST' });
    await expectProblem(refresh, 403, 'account_disabled');
    expect(parseSetCookies(refresh).get('__Secure-tw_rt')?.attributes.get('max-age')).toBe('0');
  });

  it('login: 403 account_disabled with the right password only; a wrong one is the usual 401', async () => {
    const { email } = await disabledUser();
    const right = await loginAs(deviceBrowser(t), email);
    await expectProblem(right, 403, 'account_disabled');
    expect(parseSetCookies(right).has('__Host-tw_at')).toBe(false);
    await expectProblem(await loginAs(deviceBrowser(t), email, 'wrong password here'), 401, 'invalid_credentials');
  });

  it('the token endpoint: 403 with code account_disabled for both grants', async () => {
    const { email, refresh } = await disabledUser();
    const viaPassword = await token({ grant_type: 'password', username: email, password: PASSWORD });
    expect(viaPassword.status).toBe(403);
    expect(await json(viaPassword)).toMatchObject({ error: 'invalid_grant', code: 'account_disabled' });
    const viaRefresh = await token({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(viaRefresh.status).toBe(403);
    expect(await json(viaRefresh)).toMatchObject({ error: 'invalid_grant', code: 'account_disabled' });
  });

  it('a session the revocation missed is still refused at refresh (and ended)', async () => {
    const a = deviceBrowser(t);
    const { userId } = await signupAs(a);
    // Disabled behind the kernel's back: no session was revoked.
    expect(await t.tw.context.store.updateUser(userId, { disabledAt: clock.now() })).toBe('ok');
    await expectProblem(await a.fetch('/auth/refresh', { method: 'POST' }), 403, 'account_disabled');
    expect(await t.tw.context.store.listActiveSessions(userId, clock.now())).toEqual([]);
  });

  it('enabled again: the password works', async () => {
    const { email, userId } = await disabledUser();
    expect(await t.tw.context.kernel.setUserDisabled(userId, false, null)).toBe(0);
    expect((await loginAs(deviceBrowser(t), email)).status).toBe(200);
  });
});

describe('new-device alerts by mail', () => {
  it('without an onNewDevice hook Tokenward mails the alert with the /account/not-me link; POSTing its token ends that session', async () => {
    const { email } = await signupAs(deviceBrowser(t));
    const stranger = deviceBrowser(t, {
      ip: '192.0.2.99',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
    });
    expect((await loginAs(stranger, email)).status).toBe(200);
    const mail = await outboxMail(t, (m) => m.to === email && /new sign-in/i.test(m.subject));
    expect(mail.text).toContain('192.0.2.99');
    expect(mail.text).toContain('Firefox on Linux');
    const notMe = outboxToken(mail, 'not-me');
    const response = await deviceBrowser(t).fetch('/auth/sessions/not-me', { method: 'POST', json: { token: notMe } });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ revoked: 1 });
    await expectProblem(await stranger.fetch('/auth/me'), 401, 'invalid_token');
  });

  it('with a hook, the hook gets the alert and nothing is mailed', async () => {
    const alerts: string[] = [];
    const hooked = await createTestInstance(
      {},
      { listen: false, onNewDevice: (alert) => void alerts.push(alert.notMeUrl) },
    );
    try {
      const { email } = await signupAs(deviceBrowser(hooked));
      expect((await loginAs(deviceBrowser(hooked, { ip: '192.0.2.98' }), email)).status).toBe(200);
      await expect.poll(() => alerts.length).toBe(1);
      expect(alerts[0]).toContain('/auth/sessions/not-me?token=');
      await hooked.tw.context.mailer?.drained();
      expect(hooked.tw.context.mailer?.outbox()?.filter((m) => /new sign-in/i.test(m.subject))).toEqual([]);
    } finally {
      await hooked.close();
    }
  });
});
