// Email verification (API.md `POST /auth/email/verify/request`, `POST /auth/email/verify`) and the
// login gate TOKENWARD_REQUIRE_EMAIL_VERIFICATION, mails read from the in-process outbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deviceBrowser,
  expectProblem,
  freshEmail,
  json,
  loginAs,
  PASSWORD,
  signupAs,
  stepUp,
} from '../../support/account.js';
import {
  type Browser,
  createTestInstance,
  parseSetCookies,
  TestClock,
  type TestInstance,
} from '../../support/instance.js';
import { OPEN_MAIL_LIMITS, outboxFor, outboxMail, outboxToken } from '../../support/mail.js';

function verify(b: Browser, token: string): Promise<Response> {
  return b.fetch('/auth/email/verify', { method: 'POST', json: { token } });
}

async function me(b: Browser): Promise<{ email: string; emailVerified: boolean }> {
  const response = await b.fetch('/auth/me');
  expect(response.status).toBe(200);
  return (await json<{ user: { email: string; emailVerified: boolean } }>(response)).user;
}

/** The newest verification mail's token for an address, waiting for it to be queued. */
async function verifyToken(t: TestInstance, email: string, seen: ReadonlySet<string> = new Set()): Promise<string> {
  const mail = await outboxMail(t, (m) => m.to === email && !seen.has(m.id) && /confirm your email/i.test(m.subject));
  return outboxToken(mail, 'verify-email');
}

describe('email verification', () => {
  let t: TestInstance;
  const clock = new TestClock(Date.now());
  beforeAll(async () => {
    t = await createTestInstance({ mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } }, { clock, listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signup mails a link; confirming it sets emailVerified everywhere the user appears and records email.verified', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    expect((await me(b)).emailVerified).toBe(false);
    const token = await verifyToken(t, email);
    // Opening the link is a page of the app: nothing consumed it yet; the page POSTs the token.
    const response = await verify(deviceBrowser(t), token);
    expect(response.status).toBe(200);
    expect((await json<{ user: unknown }>(response)).user).toMatchObject({ email, emailVerified: true });
    expect((await me(b)).emailVerified).toBe(true);
    const login = await loginAs(deviceBrowser(t), email);
    expect((await json<{ user: { emailVerified: boolean } }>(login)).user.emailVerified).toBe(true);
    const profile = await b.fetch('/api/profile');
    expect((await json<{ user: { emailVerified: boolean } }>(profile)).user.emailVerified).toBe(true);
    const events = await json<{ events: Array<{ type: string }> }>(await b.fetch('/auth/events'));
    expect(events.events.map((e) => e.type)).toContain('email.verified');
  });

  it('verify/request mails a new link (202); once verified it mails nothing', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    const first = await verifyToken(t, email);
    const seen = new Set((await outboxFor(t, email)).map((m) => m.id));
    expect((await b.fetch('/auth/email/verify/request', { method: 'POST' })).status).toBe(202);
    const second = await verifyToken(t, email, seen);
    expect(second).not.toBe(first);
    expect((await verify(b, second)).status).toBe(200);
    // The first link still works once (it is bound to the same address and password): verifying twice is harmless.
    expect((await verify(b, first)).status).toBe(200);
    const count = (await outboxFor(t, email)).length;
    expect((await b.fetch('/auth/email/verify/request', { method: 'POST' })).status).toBe(202);
    expect(await outboxFor(t, email)).toHaveLength(count);
    await expectProblem(
      await deviceBrowser(t).fetch('/auth/email/verify/request', { method: 'POST' }),
      401,
      'unauthenticated',
    );
  });

  describe('every wrong link is 400 invalid_link and verifies nothing', () => {
    async function unverified(): Promise<{ b: Browser; email: string; token: string }> {
      const b = deviceBrowser(t);
      const { email } = await signupAs(b);
      return { b, email, token: await verifyToken(t, email) };
    }

    it('unknown, malformed', async () => {
      const { b } = await unverified();
      for (const token of ['B'.repeat(43), 'nope', ''])
        await expectProblem(await verify(deviceBrowser(t), token), 400, 'invalid_link');
      expect((await me(b)).emailVerified).toBe(false);
    });

    it('expired (24 h)', async () => {
      const { b, token } = await unverified();
      clock.advance(24 * 3600 + 1);
      await expectProblem(await verify(deviceBrowser(t), token), 400, 'invalid_link');
      expect((await b.fetch('/auth/refresh', { method: 'POST' })).status).toBe(200);
      expect((await me(b)).emailVerified).toBe(false);
    });

    it('used', async () => {
      const { token } = await unverified();
      expect((await verify(deviceBrowser(t), token)).status).toBe(200);
      await expectProblem(await verify(deviceBrowser(t), token), 400, 'invalid_link');
    });

    it('wrong purpose: a reset link does not verify', async () => {
      const { b, email } = await unverified();
      expect((await deviceBrowser(t).fetch('/auth/password/forgot', { method: 'POST', json: { email } })).status).toBe(
        202,
      );
      const mail = await outboxMail(t, (m) => m.to === email && /reset/i.test(m.subject));
      await expectProblem(await verify(deviceBrowser(t), outboxToken(mail, 'reset-password')), 400, 'invalid_link');
      expect((await me(b)).emailVerified).toBe(false);
    });

    it("another user's: a browser signed in as someone else cannot confirm it (and the link survives)", async () => {
      const owner = await unverified();
      const other = deviceBrowser(t);
      await signupAs(other);
      await expectProblem(await verify(other, owner.token), 400, 'invalid_link');
      expect((await me(owner.b)).emailVerified).toBe(false);
      expect((await me(other)).emailVerified).toBe(false);
      expect((await verify(owner.b, owner.token)).status).toBe(200);
    });

    it('after a password change', async () => {
      const { b, token } = await unverified();
      const changed = await b.fetch('/auth/password', {
        method: 'POST',
        json: { currentPassword: PASSWORD, newPassword: 'another fine passphrase 1' },
      });
      expect(changed.status).toBe(200);
      await expectProblem(await verify(deviceBrowser(t), token), 400, 'invalid_link');
      expect((await me(b)).emailVerified).toBe(false);
    });

    it('20 concurrent confirmations of one link: exactly one 200', async () => {
      const { b, token } = await unverified();
      const statuses = (await Promise.all(Array.from({ length: 20 }, () => verify(deviceBrowser(t), token)))).map(
        (r) => r.status,
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 400)).toHaveLength(19);
      expect((await me(b)).emailVerified).toBe(true);
    });
  });
});

describe('email verification › the per-address mail budget', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({}, { listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('signup and two requests use up the hour: the next request is 429 with Retry-After', async () => {
    const b = deviceBrowser(t);
    const { email } = await signupAs(b);
    await verifyToken(t, email);
    for (let i = 0; i < 2; i++)
      expect((await b.fetch('/auth/email/verify/request', { method: 'POST' })).status).toBe(202);
    const refused = await b.fetch('/auth/email/verify/request', { method: 'POST' });
    await expectProblem(refused, 429, 'too_many_attempts');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await outboxFor(t, email)).filter((m) => /confirm your email/i.test(m.subject))).toHaveLength(3);
  });
});

describe('TOKENWARD_REQUIRE_EMAIL_VERIFICATION', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance(
      { mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } },
      { listen: false, env: { TOKENWARD_REQUIRE_EMAIL_VERIFICATION: 'true' } },
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it('signup creates the account and mails the link, but starts no session: 403 email_unverified, no cookies', async () => {
    const b = deviceBrowser(t);
    const email = freshEmail();
    const response = await b.fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } });
    await expectProblem(response, 403, 'email_unverified');
    const cookies = parseSetCookies(response);
    for (const name of ['__Host-tw_at', '__Secure-tw_rt', '__Host-tw_csrf']) expect(cookies.has(name)).toBe(false);
    await verifyToken(t, email);
    await expectProblem(
      await b.fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } }),
      409,
      'email_taken',
    );
  });

  it('the right password of an unverified account: 403 email_unverified; a wrong one: the same 401 as an unknown address', async () => {
    const email = freshEmail();
    await deviceBrowser(t).fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } });
    const right = await loginAs(deviceBrowser(t), email);
    await expectProblem(right, 403, 'email_unverified');
    expect(parseSetCookies(right).has('__Host-tw_at')).toBe(false);
    const wrong = await loginAs(deviceBrowser(t), email, 'not the password at all');
    const unknown = await loginAs(deviceBrowser(t), freshEmail(), 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toBe(await unknown.text());
  });

  it('after verification the login works; a reset or magic link proves the address too', async () => {
    const email = freshEmail();
    await deviceBrowser(t).fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } });
    expect((await verify(deviceBrowser(t), await verifyToken(t, email))).status).toBe(200);
    expect((await loginAs(deviceBrowser(t), email)).status).toBe(200);

    const viaMagic = freshEmail();
    await deviceBrowser(t).fetch('/auth/signup', { method: 'POST', json: { email: viaMagic, password: PASSWORD } });
    await deviceBrowser(t).fetch('/auth/magic-link', { method: 'POST', json: { email: viaMagic } });
    const magic = await outboxMail(t, (m) => m.to === viaMagic && /sign-in link/i.test(m.subject));
    const signedIn = await deviceBrowser(t).fetch('/auth/magic-link/verify', {
      method: 'POST',
      json: { token: outboxToken(magic, 'magic-link') },
    });
    expect(signedIn.status).toBe(200);
    expect((await json<{ user: { emailVerified: boolean } }>(signedIn)).user.emailVerified).toBe(true);
    expect((await loginAs(deviceBrowser(t), viaMagic)).status).toBe(200);
  });
});

describe('email change', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ mail: OPEN_MAIL_LIMITS }, { listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  async function requestChange(b: Browser, email: string): Promise<Response> {
    expect((await stepUp(b)).status).toBe(200);
    return b.fetch('/auth/email/change', { method: 'POST', json: { email } });
  }

  async function changeToken(next: string): Promise<string> {
    return outboxToken(
      await outboxMail(t, (m) => m.to === next && /new email/i.test(m.subject)),
      'confirm-email-change',
    );
  }

  it('needs a step-up: without one 401 step_up_required and nothing is mailed', async () => {
    const b = deviceBrowser(t);
    await signupAs(b);
    const next = freshEmail();
    await expectProblem(
      await b.fetch('/auth/email/change', { method: 'POST', json: { email: next } }),
      401,
      'step_up_required',
    );
    expect(await outboxFor(t, next)).toEqual([]);
  });

  it('a link to the new address, a notice without any link to the old; confirming changes the address and keeps every session', async () => {
    const a = deviceBrowser(t);
    const { email: old } = await signupAs(a);
    const other = deviceBrowser(t, { ip: '198.51.100.77' });
    expect((await loginAs(other, old)).status).toBe(200);
    const next = freshEmail();
    expect((await requestChange(a, next)).status).toBe(202);
    const token = await changeToken(next);
    const notice = await outboxMail(t, (m) => m.to === old && /being changed/i.test(m.subject));
    expect(notice.text).not.toMatch(/token=|https?:\/\//);
    expect(notice.html).not.toMatch(/token=|href=/);
    expect(notice.text).not.toContain(next);
    // Not changed until confirmed.
    expect((await me(a)).email).toBe(old);
    const confirmed = await verify(deviceBrowser(t), token);
    expect(confirmed.status).toBe(200);
    expect((await json<{ user: unknown }>(confirmed)).user).toMatchObject({ email: next, emailVerified: true });
    expect(await me(a)).toMatchObject({ email: next, emailVerified: true });
    expect((await me(other)).email).toBe(next);
    expect((await loginAs(deviceBrowser(t), next)).status).toBe(200);
    await expectProblem(await loginAs(deviceBrowser(t), old), 401, 'invalid_credentials');
    const events = await json<{ events: Array<{ type: string }> }>(await a.fetch('/auth/events'));
    expect(events.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['email.change_requested', 'email.changed']),
    );
  });

  it('a taken address is 409 email_taken at the request (and the step-up grant is kept for the next try)', async () => {
    const a = deviceBrowser(t);
    await signupAs(a);
    const { email: taken } = await signupAs(deviceBrowser(t));
    await expectProblem(await requestChange(a, taken), 409, 'email_taken');
    expect((await a.fetch('/auth/email/change', { method: 'POST', json: { email: freshEmail() } })).status).toBe(202);
  });

  it('an address taken between request and confirmation: 409, nothing changes, the link stays usable', async () => {
    const a = deviceBrowser(t);
    const { email: old } = await signupAs(a);
    const next = freshEmail();
    expect((await requestChange(a, next)).status).toBe(202);
    const token = await changeToken(next);
    const squatter = deviceBrowser(t);
    await signupAs(squatter, next);
    await expectProblem(await verify(deviceBrowser(t), token), 409, 'email_taken');
    expect((await me(a)).email).toBe(old);
    expect((await squatter.fetch('/auth/account', { method: 'DELETE' })).status).toBe(401);
    expect((await stepUp(squatter)).status).toBe(200);
    expect((await squatter.fetch('/auth/account', { method: 'DELETE' })).status).toBe(204);
    expect((await verify(deviceBrowser(t), token)).status).toBe(200);
    expect((await me(a)).email).toBe(next);
  });

  it('malformed, identical or hostile addresses are 400 invalid_request', async () => {
    const a = deviceBrowser(t);
    const { email } = await signupAs(a);
    for (const bad of ['not-an-address', email.toUpperCase(), 'a\ud800@example.com', `${'x'.repeat(330)}@e.com`])
      await expectProblem(await requestChange(a, bad), 400, 'invalid_request');
  });

  it('a change link dies when the password changes (the notice says so: it cancels the change)', async () => {
    const a = deviceBrowser(t);
    const { email: old } = await signupAs(a);
    const next = freshEmail();
    expect((await requestChange(a, next)).status).toBe(202);
    const token = await changeToken(next);
    const changed = await a.fetch('/auth/password', {
      method: 'POST',
      json: { currentPassword: PASSWORD, newPassword: 'owner takes it back 77' },
    });
    expect(changed.status).toBe(200);
    await expectProblem(await verify(deviceBrowser(t), token), 400, 'invalid_link');
    expect((await me(a)).email).toBe(old);
  });

  it('two accounts confirming a change to one address at once: exactly one gets it', async () => {
    const next = freshEmail();
    const tokens: string[] = [];
    const browsers: Browser[] = [];
    for (let i = 0; i < 2; i++) {
      const b = deviceBrowser(t);
      await signupAs(b);
      expect((await requestChange(b, next)).status).toBe(202);
      browsers.push(b);
    }
    const mails = await (async () => {
      for (;;) {
        const list = (await outboxFor(t, next)).filter((m) => /new email/i.test(m.subject));
        if (list.length === 2) return list;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    for (const m of mails) tokens.push(outboxToken(m, 'confirm-email-change'));
    const statuses = (await Promise.all(tokens.map((token) => verify(deviceBrowser(t), token))))
      .map((r) => r.status)
      .sort();
    expect(statuses).toEqual([200, 409]);
    const emails = await Promise.all(browsers.map(async (b) => (await me(b)).email));
    expect(emails.filter((e) => e === next)).toHaveLength(1);
  });
});
