// Mail over a real SMTP server (smtp-server + mailparser in process): STARTTLS and implicit TLS
// with a self-signed certificate trusted only through mail.smtpCaFile, the server down, slow or
// refusing — the request that triggers a mail always answers at once, nothing is lost, and no
// token ever reaches a log line.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deviceBrowser, expectProblem, signupAs } from '../../support/account.js';
import { createTestInstance, TestClock, type TestInstance } from '../../support/instance.js';
import { metricValue, OPEN_MAIL_LIMITS, recordingLogger } from '../../support/mail.js';
import {
  linkIn,
  makeSmtpCertificate,
  type ReceivedMail,
  type SmtpTestServer,
  type SmtpTls,
  startSmtpServer,
  tokenIn,
} from '../../support/smtp.js';

let tls: SmtpTls;
beforeAll(() => {
  tls = makeSmtpCertificate();
});
afterAll(() => tls.dispose());

const open: Array<{ close(): Promise<void> } | SmtpTestServer> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await ('stop' in item ? item.stop() : item.close());
});

async function smtp(options: Parameters<typeof startSmtpServer>[0]): Promise<SmtpTestServer> {
  const server = await startSmtpServer(options);
  open.push(server);
  return server;
}

async function instance(
  mail: Record<string, unknown>,
  logger = recordingLogger(),
): Promise<TestInstance & { lines: string[] }> {
  const t = await createTestInstance(
    { mail: { ...OPEN_MAIL_LIMITS, retryMaxDelay: 1, ...mail }, logLevel: 'debug' },
    { logger: logger.logger },
  );
  open.push(t);
  return Object.assign(t, { lines: logger.lines });
}

async function forgot(t: TestInstance, email: string): Promise<Response> {
  return deviceBrowser(t).fetch('/auth/password/forgot', { method: 'POST', json: { email } });
}

const resetFor = (email: string) => (m: ReceivedMail) => m.to.includes(email) && /reset/i.test(m.subject);

describe('mail › SMTP transport', () => {
  it('STARTTLS with a CA file: the reset mail arrives encrypted, multipart text + HTML, the link alone on one line', async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls });
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile, from: 'Acme <no-reply@acme.test>' });
    const { email } = await signupAs(deviceBrowser(t));
    expect((await forgot(t, email)).status).toBe(202);
    const mail = await server.waitForMail(resetFor(email));
    expect(mail.secure).toBe(true);
    expect(mail.contentType).toBe('multipart/alternative');
    expect(mail.from).toBe('no-reply@acme.test');
    const link = linkIn(mail, 'reset-password');
    expect(link.origin).toBe(t.tw.config.publicOrigin);
    expect(tokenIn(mail, 'reset-password')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail.html).toContain(link.href.replace(/&/g, '&amp;'));
    expect(mail.html).toMatch(/<a href="[^"]+\/account\/reset-password\?token=/);
    // Following the mailed link finishes the reset through the API: signed in, the new password works.
    const device = deviceBrowser(t);
    const reset = await device.fetch('/auth/password/reset', {
      method: 'POST',
      json: { token: tokenIn(mail, 'reset-password'), password: 'the mailed link worked 1' },
    });
    expect(reset.status).toBe(200);
    expect((await device.fetch('/auth/me')).status).toBe(200);
  });

  it('smtps (TLS from the first byte) with a CA file delivers', async () => {
    const server = await smtp({ tls: 'implicit', certificate: tls });
    expect(server.url).toMatch(/^smtps:/);
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile });
    const { email } = await signupAs(deviceBrowser(t));
    await forgot(t, email);
    expect((await server.waitForMail(resetFor(email))).secure).toBe(true);
  });

  it('certificates are verified by default: without the CA file the self-signed server gets nothing, and the failure is retried', async () => {
    const server = await smtp({ tls: 'implicit', certificate: tls });
    const t = await instance({ smtpUrl: server.url });
    const { email } = await signupAs(deviceBrowser(t));
    expect((await forgot(t, email)).status).toBe(202);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_retries_total'), { timeout: 8000 })
      .toBeGreaterThanOrEqual(2);
    expect(server.mails).toEqual([]);
    expect(t.lines.some((l) => /certificate/i.test(l) && l.includes('mail delivery failed'))).toBe(true);
  });

  it('requireTls: a server that offers no STARTTLS never receives a mail in plain text', async () => {
    const server = await smtp({ tls: 'none' });
    const t = await instance({ smtpUrl: server.url, smtpRequireTls: true });
    const { email } = await signupAs(deviceBrowser(t));
    await forgot(t, email);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_retries_total'), { timeout: 8000 })
      .toBeGreaterThanOrEqual(2);
    expect(server.mails).toEqual([]);
  });

  it('SMTP down when the mail is asked for: 202 at once, and the mail goes out once the server is back', async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls, stopped: true });
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile });
    const { email } = await signupAs(deviceBrowser(t));
    const started = performance.now();
    expect((await forgot(t, email)).status).toBe(202);
    expect(performance.now() - started).toBeLessThan(1000);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_retries_total'), { timeout: 8000 })
      .toBeGreaterThanOrEqual(2);
    await server.start();
    const mail = await server.waitForMail(resetFor(email), 10_000);
    const token = tokenIn(mail, 'reset-password');
    // Every failed attempt was logged, and no log line ever held the token or the link.
    expect(t.lines.filter((l) => l.includes('mail delivery failed')).length).toBeGreaterThanOrEqual(2);
    for (const line of t.lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain('/account/reset-password?token=');
    }
    await expect.poll(() => metricValue(t, 'tokenward_mail_sent_total', { template: 'reset-password' })).toBe(1);
  });

  it('a mail still failing when its link expires is given up and counted, never sent late', async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls, stopped: true });
    const clock = new TestClock(Date.now());
    const log = recordingLogger();
    const t = await createTestInstance(
      { mail: { ...OPEN_MAIL_LIMITS, retryMaxDelay: 1, smtpUrl: server.url, smtpCaFile: tls.caFile } },
      { logger: log.logger, clock, listen: false },
    );
    open.push(t);
    const { email } = await signupAs(deviceBrowser(t));
    expect((await forgot(t, email)).status).toBe(202);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_retries_total', { template: 'reset-password' }), { timeout: 8000 })
      .toBeGreaterThanOrEqual(1);
    clock.advance(15 * 60);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_failed_total', { template: 'reset-password', reason: 'expired' }), {
        timeout: 8000,
      })
      .toBe(1);
    await server.start();
    // The verification mail (24 h) still goes out; the expired reset link never does.
    await server.waitForMail((m) => m.to.includes(email) && /confirm/i.test(m.subject), 10_000);
    expect(server.mails.filter(resetFor(email))).toEqual([]);
  });

  it('a slow SMTP server never slows the request that mails', async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls });
    server.behaviour.delayMs = 3000;
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile });
    const { email } = await signupAs(deviceBrowser(t));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      expect((await forgot(t, email)).status).toBe(202);
      times.push(performance.now() - started);
    }
    expect(Math.max(...times)).toBeLessThan(1000);
    await server.waitForMail(resetFor(email), 15_000);
  });

  it('a busy server (450) is retried until it accepts; a refusal (550) is dropped and counted, never retried', async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls });
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile });
    const { email } = await signupAs(deviceBrowser(t));
    await expect.poll(() => metricValue(t, 'tokenward_mail_sent_total', { template: 'verify-email' })).toBe(1);
    server.behaviour.rejectRecipient = 450;
    await forgot(t, email);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_retries_total'), { timeout: 8000 })
      .toBeGreaterThanOrEqual(1);
    delete server.behaviour.rejectRecipient;
    await server.waitForMail(resetFor(email), 10_000);
    server.behaviour.rejectRecipient = 550;
    const retries = await metricValue(t, 'tokenward_mail_retries_total');
    await forgot(t, email);
    await expect
      .poll(() => metricValue(t, 'tokenward_mail_failed_total', { template: 'reset-password', reason: 'rejected' }))
      .toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await metricValue(t, 'tokenward_mail_retries_total')).toBe(retries);
    expect(await metricValue(t, 'tokenward_mail_sent_total', { template: 'reset-password' })).toBe(1);
  });

  it('throughput: mails per second through SMTP (STARTTLS, pooled connections)', { timeout: 120_000 }, async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls });
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile, concurrency: 4 });
    const count = 300;
    const started = performance.now();
    for (let i = 0; i < count; i++)
      t.tw.context.mailer?.send({
        template: 'email-change-notice',
        to: `bulk${i}@example.com`,
        variables: { email: `bulk${i}@example.com`, newEmailMasked: 'n••@example.com' },
        expiresAt: Date.now() + 600_000,
      });
    await t.tw.context.mailer?.drained();
    const seconds = (performance.now() - started) / 1000;
    expect(server.mails).toHaveLength(count);
    console.log(
      `[mail] ${count} mails through SMTP (STARTTLS, 4 pooled connections) in ${seconds.toFixed(2)} s: ${(count / seconds).toFixed(0)} mails/s`,
    );
  });
});

describe('mail › configuration fails at start with one line naming the option', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a URL of another scheme', { smtpUrl: 'http://mail.example.com' }, /mail\.smtpUrl \(env TOKENWARD_SMTP_URL\)/],
    ['a URL with a path', { smtpUrl: 'smtp://mail.example.com/x' }, /mail\.smtpUrl \(env TOKENWARD_SMTP_URL\)/],
    ['a sender that is no address', { from: 'not an address' }, /mail\.from \(env TOKENWARD_MAIL_FROM\)/],
    [
      'a CA file that does not exist',
      { smtpUrl: 'smtp://mail.example.com', smtpCaFile: '/nonexistent/ca.pem' },
      /mail\.smtpCaFile \(env TOKENWARD_SMTP_CA_FILE\)/,
    ],
    [
      'a template whose text part lacks the link line',
      { templates: { 'reset-password': { text: 'Reset here: {{link}} (15 min)' } } },
      /mail\.templates\.reset-password\.text: the text part must hold \{\{link\}\} alone on one line/,
    ],
    [
      'a template with an unknown variable',
      { templates: { 'magic-link': { subject: 'Hi {{name}}' } } },
      /mail\.templates\.magic-link\.subject: unknown variable \{\{name\}\}/,
    ],
    ['a rate that is no rate', { limitPerIp: 'lots' }, /mail\.limitPerIp \(env TOKENWARD_LIMIT_MAIL_PER_IP\)/],
  ];
  for (const [what, mail, message] of cases) {
    it(what, async () => {
      const error = await createTestInstance({ mail } as never, { listen: false }).then(
        async (t) => {
          await t.close();
          return null;
        },
        (e: Error) => e,
      );
      expect(error?.name).toBe('ConfigError');
      expect(error?.message).toMatch(message);
      expect(error?.message.split('\n')).toHaveLength(1);
    });
  }

  it('the password of the SMTP URL never appears in a message', async () => {
    const error = await createTestInstance(
      { mail: { smtpUrl: 'smtp://user:s3cret-pass@mail.example.com', smtpCaFile: '/nonexistent/ca.pem' } },
      { listen: false },
    ).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain('s3cret-pass');
  });

  it('an unparsable environment value names its variable', async () => {
    const error = await createTestInstance({}, { listen: false, env: { TOKENWARD_SMTP_URL: 'ftp://x' } }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toMatch(/TOKENWARD_SMTP_URL/);
  });
});

describe('mail › the in-process outbox', () => {
  it('with NODE_ENV=production and no SMTP URL a warning is logged at start', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const log = recordingLogger('warn');
      const t = await createTestInstance({}, { logger: log.logger, listen: false });
      await t.close();
      expect(log.lines.some((l) => l.includes('TOKENWARD_SMTP_URL') && l.includes('never delivered'))).toBe(true);
      expect(log.lines.some((l) => /outbox/i.test(l))).toBe(false);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it('with SMTP there is no outbox; a malformed address is 400 and queues nothing', async () => {
    const server = await smtp({ tls: 'starttls', certificate: tls });
    const t = await instance({ smtpUrl: server.url, smtpCaFile: tls.caFile });
    expect(t.tw.context.mailer?.outbox()).toBeNull();
    await expectProblem(await forgot(t, 'not-an-address'), 400, 'invalid_request');
    await t.tw.context.mailer?.drained();
    expect(await metricValue(t, 'tokenward_mail_sent_total')).toBe(0);
    expect(server.mails).toEqual([]);
  });
});
