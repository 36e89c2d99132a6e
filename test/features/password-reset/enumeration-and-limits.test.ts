// API.md: `POST /auth/password/forgot` and `POST /auth/magic-link` answer 202 with identical bytes
// and comparable time whether or not the address has an account; mails are limited per address
// and per IP network (over the limit still 202, nothing sent); a flood from one network gets 429.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceBrowser, expectProblem, freshEmail, signupAs } from '../../support/account.js';
import { createTestInstance, TestClock, type TestInstance } from '../../support/instance.js';
import { OPEN_MAIL_LIMITS, outboxFor } from '../../support/mail.js';

const ENDPOINTS = [
  ['/auth/password/forgot', 'reset'],
  ['/auth/magic-link', 'sign-in link'],
] as const;

function ask(t: TestInstance, path: string, email: string, ip = '203.0.113.7'): Promise<Response> {
  return t.tw.fetch(
    new Request(new URL(path, t.tw.config.publicOrigin), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email }),
    }),
    { ip },
  );
}

async function snapshot(response: Response): Promise<{ status: number; headers: string; body: string }> {
  const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  return { status: response.status, headers, body: await response.text() };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('enumeration › same bytes, same work', () => {
  let t: TestInstance;
  const known: string[] = [];
  let disabled = '';

  beforeAll(async () => {
    t = await createTestInstance({ mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } }, { listen: false });
    for (let i = 0; i < 12; i++) known.push((await signupAs(deviceBrowser(t))).email);
    const off = await signupAs(deviceBrowser(t));
    await t.tw.context.kernel.setUserDisabled(off.userId, true, null);
    disabled = off.email;
  });
  afterAll(async () => {
    await t.close();
  });

  for (const [path, subject] of ENDPOINTS) {
    it(`${path}: known, unknown and disabled addresses get byte-identical answers; only the known one gets a mail`, async () => {
      const unknown = freshEmail();
      const answers = [
        await snapshot(await ask(t, path, known[0] ?? '')),
        await snapshot(await ask(t, path, unknown)),
        await snapshot(await ask(t, path, disabled)),
        await snapshot(await ask(t, path, `  ${(known[1] ?? '').toUpperCase()} `)),
      ];
      expect(answers[0]?.status).toBe(202);
      for (const a of answers) expect(a).toEqual(answers[0]);
      expect((await outboxFor(t, known[0] ?? '')).some((m) => m.subject.toLowerCase().includes(subject))).toBe(true);
      expect((await outboxFor(t, known[1] ?? '')).some((m) => m.subject.toLowerCase().includes(subject))).toBe(true);
      expect(await outboxFor(t, unknown)).toEqual([]);
      expect((await outboxFor(t, disabled)).filter((m) => m.subject.toLowerCase().includes(subject))).toEqual([]);
    });

    it(`${path}: timing of known vs unknown addresses (interleaved; distribution printed)`, {
      timeout: 60_000,
    }, async () => {
      const rounds = 150;
      const times: Record<'known' | 'unknown', number[]> = { known: [], unknown: [] };
      const once = async (kind: 'known' | 'unknown', i: number) => {
        const email = kind === 'known' ? (known[i % known.length] ?? '') : freshEmail();
        const started = performance.now();
        const response = await ask(t, path, email);
        times[kind].push(performance.now() - started);
        expect(response.status).toBe(202);
      };
      for (let i = 0; i < 20; i++) await once(i % 2 ? 'known' : 'unknown', i); // warm-up
      times.known.length = 0;
      times.unknown.length = 0;
      for (let i = 0; i < rounds; i++) {
        // Alternate which goes first, so drift on the shared machine hits both alike.
        const order: Array<'known' | 'unknown'> = i % 2 ? ['known', 'unknown'] : ['unknown', 'known'];
        for (const kind of order) await once(kind, i);
      }
      const stats = (list: number[]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return {
          p10: percentile(sorted, 10),
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
        };
      };
      const k = stats(times.known);
      const u = stats(times.unknown);
      const f = (s: ReturnType<typeof stats>) =>
        `p10 ${s.p10.toFixed(3)} p50 ${s.p50.toFixed(3)} p90 ${s.p90.toFixed(3)} p99 ${s.p99.toFixed(3)} ms`;
      console.log(`[enumeration] ${path} (${rounds} each, in process, SQLite)\n  known   ${f(k)}\n  unknown ${f(u)}`);
      // Same work: a real difference (a password hash, a mail rendered in the request) is ~10× this.
      expect(Math.abs(k.p50 - u.p50)).toBeLessThan(Math.max(0.5, 0.5 * u.p50));
    });
  }
});

describe('mail limits (API.md: 3 per address and 20 per IP per hour; over it still 202, nothing sent)', () => {
  let t: TestInstance;
  const clock = new TestClock(Date.now());

  beforeAll(async () => {
    t = await createTestInstance({ magicLink: { enabled: true } }, { clock, listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  const resetMails = async (email: string) =>
    (await outboxFor(t, email)).filter((m) => /reset/i.test(m.subject)).length;

  it('per address: the 4th request within the hour sends nothing; an hour later it sends again', async () => {
    const { email } = await signupAs(deviceBrowser(t));
    for (let i = 0; i < 4; i++)
      expect((await ask(t, '/auth/password/forgot', email, `198.51.100.${i + 1}`)).status).toBe(202);
    expect(await resetMails(email)).toBe(3);
    // The magic-link budget is its own: a flood of reset requests does not block a sign-in link.
    expect((await ask(t, '/auth/magic-link', email, '198.51.100.9')).status).toBe(202);
    expect((await outboxFor(t, email)).filter((m) => /sign-in link/i.test(m.subject))).toHaveLength(1);
    clock.advance(3601);
    expect((await ask(t, '/auth/password/forgot', email, '198.51.100.10')).status).toBe(202);
    expect(await resetMails(email)).toBe(4);
  });

  it('per IP network: the 21st request from one network sends nothing; another network still gets its mail', async () => {
    const emails: string[] = [];
    for (let i = 0; i < 22; i++) emails.push((await signupAs(deviceBrowser(t))).email);
    for (let i = 0; i < 21; i++)
      expect((await ask(t, '/auth/password/forgot', emails[i] ?? '', `2001:db8:7:1::${i + 1}`)).status).toBe(202);
    for (let i = 0; i < 20; i++) expect(await resetMails(emails[i] ?? '')).toBe(1);
    expect(await resetMails(emails[20] ?? '')).toBe(0);
    expect((await ask(t, '/auth/password/forgot', emails[21] ?? '', '2001:db8:7:2::1')).status).toBe(202);
    expect(await resetMails(emails[21] ?? '')).toBe(1);
  });
});

describe('link requests › a flood from one network gets 429 (it reveals nothing about any account)', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ limitLoginPerIp: '5/15m', magicLink: { enabled: true } }, { listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the 6th request in the window is 429 with Retry-After, for known and unknown addresses alike', async () => {
    const { email } = await signupAs(deviceBrowser(t, { ip: '192.0.2.200' }));
    for (let i = 0; i < 5; i++)
      expect((await ask(t, '/auth/password/forgot', i % 2 ? email : freshEmail(), '192.0.2.1')).status).toBe(202);
    const known = await ask(t, '/auth/password/forgot', email, '192.0.2.1');
    const unknown = await ask(t, '/auth/password/forgot', freshEmail(), '192.0.2.1');
    const body = await expectProblem(known, 429, 'too_many_attempts');
    expect(Number(known.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await expectProblem(unknown, 429, 'too_many_attempts')).toEqual(body);
  });
});

describe('link requests › CSRF and hostile input', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await createTestInstance({ mail: OPEN_MAIL_LIMITS, magicLink: { enabled: true } }, { listen: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a cross-site request is 403 csrf_rejected and mails nothing', async () => {
    const { email } = await signupAs(deviceBrowser(t));
    await outboxFor(t, email);
    const before = (await outboxFor(t, email)).length;
    for (const [path] of ENDPOINTS) {
      const response = await t.tw.fetch(
        new Request(new URL(path, t.tw.config.publicOrigin), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'sec-fetch-site': 'cross-site',
            origin: 'https://evil.example',
          },
          body: JSON.stringify({ email }),
        }),
        { ip: '203.0.113.9' },
      );
      await expectProblem(response, 403, 'csrf_rejected');
    }
    expect(await outboxFor(t, email)).toHaveLength(before);
  });

  const hostile: Array<[string, string, string]> = [
    ['malformed JSON', '{"email":', 'application/json'],
    ['an array', '[1]', 'application/json'],
    ['a number as email', '{"email": 5}', 'application/json'],
    ['a lone surrogate', '{"email": "a\\ud800@example.com"}', 'application/json'],
    ['a control character', '{"email": "a\\u0007@example.com"}', 'application/json'],
    ['an overlong email', JSON.stringify({ email: `${'a'.repeat(400)}@example.com` }), 'application/json'],
    ['not an address', '{"email": "nobody"}', 'application/json'],
    ['form encoding', 'email=a%40example.com', 'application/x-www-form-urlencoded'],
    ['an oversized body', JSON.stringify({ email: 'a@example.com', pad: 'x'.repeat(70_000) }), 'application/json'],
  ];
  for (const [what, body, type] of hostile) {
    it(`${what}: a 4xx problem, never a 500, nothing stored or sent`, async () => {
      for (const path of [
        ...ENDPOINTS.map(([p]) => p),
        '/auth/password/reset',
        '/auth/magic-link/verify',
        '/auth/email/verify',
      ]) {
        const response = await t.tw.fetch(
          new Request(new URL(path, t.tw.config.publicOrigin), {
            method: 'POST',
            headers: { 'content-type': type, 'sec-fetch-site': 'same-origin' },
            body,
          }),
          { ip: '203.0.113.10' },
        );
        expect(response.status, `${path}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${path}`).toBeLessThan(500);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
      }
      expect(t.tw.context.mailer?.outbox()?.filter((m) => m.to === 'a@example.com')).toEqual([]);
    });
  }
});
