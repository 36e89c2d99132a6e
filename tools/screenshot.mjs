#!/usr/bin/env node
/**
 * Screenshots of the demo app for docs/screenshots/: starts `demo/server.ts` on a free port with
 * a throwaway data directory, drives headless Chromium (playwright-core) through every page and
 * writes PNGs (desktop 1280×800, plus mobile 390×844).
 *
 *   node tools/screenshot.mjs [--out docs/screenshots] [--chromium /path/to/chromium]
 *
 * Chromium: --chromium, else $CHROMIUM_PATH, else the first of chromium / chromium-browser /
 * google-chrome on PATH.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const OUT = resolve(ROOT, arg('--out') ?? 'docs/screenshots');
const PASSWORD = 'correct horse battery staple';

function findChromium() {
  const given = arg('--chromium') ?? process.env.CHROMIUM_PATH;
  if (given) return given;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {}
  }
  throw new Error('No Chromium found: pass --chromium or set CHROMIUM_PATH');
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function startDemo(port, dataDir) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TOKENWARD_DATA_DIR: dataDir,
      TOKENWARD_PUBLIC_ORIGIN: `http://localhost:${port}`,
      TOKENWARD_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`demo did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('listening')) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => rej(new Error(`demo exited (${code}):\n${output}`)));
  });
  return child;
}

/** RFC 6238 code for a base32 secret, `offset` steps from now. */
function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/[\s=]/g, '').toUpperCase())
    bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => Number.parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac('sha1', key).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/**
 * A proxy in front of the demo that removes every Sec-Fetch-* and Origin request header: how a
 * browser from before Fetch Metadata reaches the server (the old-browser banner's screenshots).
 */
function startStrippingProxy(target) {
  const server = createHttpServer((req, res) => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !/^(sec-fetch-|origin$)/i.test(name)),
    );
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res(server)));
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-shots-'));
  const demo = await startDemo(port, dataDir);
  const origin = `http://localhost:${port}`;
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const problems = [];
  const watch = (page, label) => {
    page.on('console', (m) => {
      // 401s are how a signed-out page learns it is signed out; the lab provokes CSP violations on
      // purpose. Anything else (a CSP violation on a normal page, a 404, a 500) is a bug.
      const inLab = new URL(page.url()).pathname === '/lab';
      if (m.type() !== 'error' || /status of 401/.test(m.text())) return;
      if (!(inLab && /Content Security Policy|attacker\.example|eval/.test(m.text())))
        problems.push(`${label} ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${label}: ${e.message}`));
  };
  const shot = async (page, name, options = {}) => {
    await page.waitForTimeout(250);
    await page.screenshot({ path: join(OUT, `${name}.png`), ...options });
    console.log(`wrote ${name}.png`);
  };
  try {
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const page = await desktop.newPage();
    watch(page, 'desktop');

    await page.goto(`${origin}/`);
    await page.waitForSelector('form#login-form');
    await shot(page, '01-login');

    await page.click('a[href="/signup"] >> nth=0');
    await page.waitForSelector('form#signup-form');
    await page.fill('#signup-form input[name=name]', 'Ada Lovelace');
    await page.fill('#signup-form input[name=email]', 'ada@example.com');
    await page.fill('#signup-form input[name=password]', PASSWORD);
    await shot(page, '02-signup');
    await page.click('#signup-form button[type=submit]');
    await page.waitForSelector('[data-testid=user-email]');

    await page.waitForSelector('.facts code');
    await shot(page, '03-profile');

    await page.click('a[href="/notes"]');
    for (const text of ['Rotate the signing keys on Friday', 'Ask Grace about the refresh grace window', 'Buy milk']) {
      const before = await page.locator('[data-testid=note]').count();
      await page.fill('#note-form input[name=text]', text);
      await page.click('#note-form button[type=submit]');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=note]').length === n, before + 1);
    }
    await shot(page, '04-notes');

    // A second device (a phone, another IP-less context) so the sessions page has something to show.
    const phone = await browser.newContext({
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    });
    const phonePage = await phone.newPage();
    await phonePage.goto(`${origin}/login`);
    await phonePage.fill('#login-form input[name=email]', 'ada@example.com');
    await phonePage.fill('#login-form input[name=password]', PASSWORD);
    await phonePage.click('#login-form button[type=submit]');
    await phonePage.waitForSelector('[data-testid=user-email]');
    await phone.close();

    await page.click('a[href="/sessions"]');
    await page.waitForSelector('[data-testid=session-row] >> nth=1');
    await shot(page, '05-sessions');

    await page.click('a[href="/transfer"]');
    await page.fill('#transfer-form input[name=amount]', '250');
    await page.click('#transfer-form button[type=submit]');
    await page.waitForSelector('form#step-up-form');
    await page.fill('#step-up-form input[name=password]', PASSWORD);
    await shot(page, '06-transfer-step-up');
    await page.click('#step-up-form button[type=submit]');
    await page.waitForSelector('[data-testid=transfer-result]');
    await shot(page, '07-transfer-done');

    await page.click('a[href="/security"]');
    await page.click('#totp-enroll');
    await page.waitForSelector('form#step-up-form');
    await page.fill('#step-up-form input[name=password]', PASSWORD);
    await page.click('#step-up-form button[type=submit]');
    await page.waitForSelector('[data-testid=totp-qr]');
    await shot(page, '08-security-totp-setup');
    const uri = await page.getAttribute('[data-testid=totp-secret]', 'data-otpauth');
    const secret = new URL(uri).searchParams.get('secret');
    await page.fill('#totp-confirm-form input[name=code]', totp(secret));
    await page.click('#totp-confirm-form button[type=submit]');
    await page.waitForSelector('[data-testid=recovery-codes]');
    await shot(page, '09-security-recovery-codes');
    const recoveryCodes = await page.$$eval('[data-testid=recovery-codes] code', (els) =>
      els.map((e) => e.textContent),
    );
    await page.click('[data-testid=recovery-codes] .btn-primary');
    await page.waitForSelector('#totp-disable');
    await page.click('.events + .actions, .card-head .btn-ghost >> text=Refresh');
    await page.waitForSelector('[data-testid=event][data-type="totp.enabled"]');
    await shot(page, '10-security');

    // Sign-in with the second factor (a recovery code: the current TOTP step is already used).
    await page.click('button#logout');
    await page.waitForSelector('[data-testid=logged-out]');
    await page.goto(`${origin}/login`);
    await page.fill('#login-form input[name=email]', 'ada@example.com');
    await page.fill('#login-form input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('form#mfa-form');
    await shot(page, '11-login-second-factor');
    await page.fill('#mfa-form input[name=code]', recoveryCodes[0]);
    await page.click('#mfa-form button[type=submit]');
    await page.waitForSelector('[data-testid=user-email]');

    await page.click('a[href="/lab"]');
    await page.click('button#run-lab');
    await page.waitForSelector('[data-testid=lab-results][data-state=done]', { timeout: 30_000 });
    await shot(page, '12-security-lab', { fullPage: true });
    const failed = await page.$$eval('[data-testid=lab-result][data-status=fail]', (els) =>
      els.map((e) => e.textContent),
    );
    if (failed.length) problems.push(`lab failures: ${failed.join(' | ')}`);

    // Passkeys, with Chromium's virtual authenticator (a platform authenticator with a fingerprint).
    const cdp = await desktop.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    // The lab's attacks signed this browser out: back in with the password and a recovery code.
    await page.goto(`${origin}/login`);
    await page.fill('#login-form input[name=email]', 'ada@example.com');
    await page.fill('#login-form input[name=password]', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.fill('#mfa-form input[name=code]', recoveryCodes[1]);
    await page.click('#mfa-form button[type=submit]');
    await page.waitForSelector('[data-testid=user-email]');
    await page.click('a[href="/security"]');
    await page.fill('#passkey-form input[name=passkey-name]', 'MacBook Touch ID');
    await page.click('#passkey-add');
    await page.waitForSelector('form#step-up-form');
    await page.fill('#step-up-form input[name=password]', PASSWORD);
    await page.click('#step-up-form button[type=submit]');
    await page.waitForSelector('[data-testid=passkey-row]');
    await shot(page, '14-security-passkeys');
    await page.click('a[href="/transfer"]');
    await page.fill('#transfer-form input[name=amount]', '40');
    await page.click('#transfer-form button[type=submit]');
    await page.waitForSelector('#step-up-passkey');
    await shot(page, '15-transfer-step-up-passkey');
    await page.click('#step-up-passkey');
    await page.waitForSelector('[data-testid=transfer-result][data-status=ok]');
    await desktop.close();

    // The account's life by mail (no SMTP configured: the demo keeps the mails in its Outbox).
    const lin = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const l = await lin.newPage();
    watch(l, 'mail');
    const outboxLink = async (to, subject, pathPrefix) => {
      for (let i = 0; i < 50; i++) {
        const response = await l.request.get(`${origin}/outbox`, { headers: { accept: 'application/json' } });
        const { mails } = await response.json();
        const mail = mails.find((x) => x.to === to && subject.test(x.subject));
        const line = mail?.text.split('\n').find((x) => x.includes(pathPrefix));
        if (line) return line.trim();
        await l.waitForTimeout(100);
      }
      throw new Error(`no ${subject} mail for ${to} in the outbox`);
    };
    await l.goto(`${origin}/signup`);
    await l.fill('#signup-form input[name=name]', 'Lin Chen');
    await l.fill('#signup-form input[name=email]', 'lin@example.com');
    await l.fill('#signup-form input[name=password]', PASSWORD);
    await l.click('#signup-form button[type=submit]');
    await l.waitForSelector('[data-testid=verify-banner]');
    await shot(l, '14-verify-banner');
    await l.click('a[href="/outbox"]');
    await l.waitForSelector('[data-testid=outbox-mail]');
    await shot(l, '15-outbox');
    await l.goto(await outboxLink('lin@example.com', /confirm your email/i, '/account/verify-email'));
    await l.click('[data-testid=confirm-link]');
    await l.waitForSelector('[data-testid=link-done]');
    await shot(l, '16-email-confirmed');
    await l.goto(`${origin}/security`);
    await l.waitForSelector('form#email-change-form');
    await l.fill('#email-change-form input[name=email]', 'lin.chen@example.com');
    await l.click('#email-change-form button[type=submit]');
    await l.waitForSelector('form#step-up-form');
    await l.fill('#step-up-form input[name=password]', PASSWORD);
    await l.click('#step-up-form button[type=submit]');
    await l.waitForSelector('#email-change-form .status-ok');
    await l.locator('#email-change-form').scrollIntoViewIfNeeded();
    await l.evaluate(() => window.scrollBy(0, 260));
    await shot(l, '17-security-email-and-data');
    await l.goto(await outboxLink('lin.chen@example.com', /new email/i, '/account/confirm-email-change'));
    await l.click('[data-testid=confirm-link]');
    await l.waitForSelector('[data-testid=link-done]');
    await l.click('button#logout');
    await l.waitForSelector('[data-testid=logged-out]');
    await l.goto(`${origin}/login`);
    await l.click('[data-testid=forgot-link]');
    await l.fill('#forgot-form input[name=email]', 'lin.chen@example.com');
    await l.click('#forgot-form button[type=submit]');
    await l.waitForSelector('#forgot-form .status-ok');
    await shot(l, '18-forgot-password');
    await l.goto(await outboxLink('lin.chen@example.com', /reset/i, '/account/reset-password'));
    await l.fill('#reset-form input[name=password]', 'a new passphrase for Lin');
    await shot(l, '19-reset-password');
    await l.click('#reset-form button[type=submit]');
    await l.waitForSelector('[data-testid=user-email]');
    await l.click('button#logout');
    await l.waitForSelector('[data-testid=logged-out]');
    await l.goto(`${origin}/login`);
    await l.waitForSelector('[data-testid=magic-link-button]:not([hidden])');
    await l.fill('#login-form input[name=email]', 'lin.chen@example.com');
    await l.click('[data-testid=magic-link-button]');
    await l.waitForSelector('#login-form .status-ok');
    await shot(l, '20-login-magic-link');
    await l.goto(await outboxLink('lin.chen@example.com', /sign-in link/i, '/account/magic-link'));
    await shot(l, '21-magic-link-page');
    await l.click('[data-testid=confirm-link]');
    await l.waitForSelector('[data-testid=user-email]');
    await lin.close();

    const mobile = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const m = await mobile.newPage();
    watch(m, 'mobile');
    await m.goto(`${origin}/signup`);
    await m.fill('#signup-form input[name=email]', 'grace@example.com');
    await m.fill('#signup-form input[name=password]', PASSWORD);
    await m.click('#signup-form button[type=submit]');
    await m.waitForSelector('[data-testid=user-email]');
    await m.click('a[href="/sessions"]');
    await m.waitForSelector('[data-testid=session-row]');
    await shot(m, '13-mobile-sessions');
    await mobile.close();

    // Old browsers: the same Chromium through a proxy that strips Sec-Fetch-* and Origin (degraded,
    // served through the double-submit token), and an Internet Explorer 11 User-Agent (unsupported).
    const proxy = await startStrippingProxy(port);
    try {
      const old = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
      const o = await old.newPage();
      // Its first load's refresh attempt (no session yet) is refused by the CSRF rule with 403:
      // the anonymous token is bound to no session. Anything else is a problem.
      o.on('console', (m) => {
        if (m.type() === 'error' && !/status of (401|403)/.test(m.text())) problems.push(`old-browser: ${m.text()}`);
      });
      o.on('pageerror', (e) => problems.push(`old-browser: ${e.message}`));
      const via = `http://localhost:${proxy.address().port}`;
      await o.goto(`${via}/login`);
      await o.waitForSelector('[data-testid=browser-banner][data-status=degraded]');
      await shot(o, '14-old-browser-banner');
      await o.fill('#login-form input[name=email]', 'grace@example.com');
      await o.fill('#login-form input[name=password]', PASSWORD);
      await o.click('#login-form button[type=submit]');
      await o.waitForSelector('[data-testid=user-email]');
      await o.click('a[href="/lab"]');
      await o.waitForSelector('[data-testid=browser-protections] [data-testid=browser-status]');
      await shot(o, '15-lab-old-browser', { fullPage: true });
      await old.close();

      const ie = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        deviceScaleFactor: 1,
        userAgent: 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
      });
      const i = await ie.newPage();
      watch(i, 'ie11');
      await i.goto(`${origin}/login`);
      await i.waitForSelector('[data-testid=browser-banner][data-status=unsupported]');
      await shot(i, '16-unsupported-browser');
      await ie.close();
    } finally {
      proxy.close();
    }
  } finally {
    await browser.close();
    demo.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (problems.length) {
    console.error(`problems seen:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
