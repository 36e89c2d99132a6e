/**
 * A real SMTP server for the mail tests (smtp-server + mailparser, in process): plain, STARTTLS or
 * implicit TLS with a throwaway self-signed certificate, that records every mail it accepts
 * (parsed: subject, text and HTML parts) and can be told to refuse, answer slowly, or go away.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../tools/services.mjs';

/** A throwaway certificate for 127.0.0.1 and localhost, and the file the mail options trust it from. */
export interface SmtpTls {
  key: string;
  cert: string;
  /** PEM file of the certificate (its own CA): `mail.smtpCaFile`. */
  caFile: string;
  dispose(): void;
}

/** Makes a self-signed P-256 certificate valid for 127.0.0.1 and localhost (openssl, from Debian). */
export function makeSmtpCertificate(): SmtpTls {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-smtp-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'pipe' },
  );
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, cert);
  return { key, cert, caFile, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A mail the server accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The top-level Content-Type (multipart/alternative for text + HTML). */
  contentType: string;
  /** Whether the SMTP session was encrypted (STARTTLS or implicit TLS). */
  secure: boolean;
  receivedAt: number;
}

/** What the server does with the next mails (change it any time). */
export interface SmtpBehaviour {
  /** Reply to RCPT TO with this code (e.g. 450 busy, 550 no such user). */
  rejectRecipient?: 450 | 550;
  /** Wait this long before accepting each message's data. */
  delayMs?: number;
}

export interface SmtpTestServer {
  port: number;
  /** `smtp://127.0.0.1:<port>` or `smtps://…`. */
  url: string;
  mails: ReceivedMail[];
  behaviour: SmtpBehaviour;
  /** The first mail (already received or arriving within the timeout) matching `match`. */
  waitForMail(match: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Stops listening (new connections are refused); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface SmtpServerOptions {
  /** `implicit`: TLS from the first byte (smtps); `starttls`: plain, upgraded by STARTTLS; `none`: no TLS offered. */
  tls: 'implicit' | 'starttls' | 'none';
  certificate?: SmtpTls;
  /** A port chosen beforehand (the server may start later: "SMTP down at first"). */
  port?: number;
  /** Do not listen yet. */
  stopped?: boolean;
}

/** Starts a recording SMTP server on 127.0.0.1. */
export async function startSmtpServer(options: SmtpServerOptions): Promise<SmtpTestServer> {
  const port = options.port ?? (await freePort());
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const behaviour: SmtpBehaviour = {};
  let server: SMTPServer | null = null;
  const make = (): SMTPServer =>
    new SMTPServer({
      secure: options.tls === 'implicit',
      ...(options.tls !== 'none' && options.certificate
        ? { key: options.certificate.key, cert: options.certificate.cert }
        : {}),
      hideSTARTTLS: options.tls === 'none',
      ...(options.tls === 'none' ? { disabledCommands: ['STARTTLS', 'AUTH'] } : { disabledCommands: ['AUTH'] }),
      authOptional: true,
      logger: false,
      closeTimeout: 100,
      onRcptTo(_address, _session, callback) {
        const code = behaviour.rejectRecipient;
        if (code === undefined) return callback();
        const error = Object.assign(new Error(code === 550 ? 'No such user here' : 'Try again later'), {
          responseCode: code,
        });
        callback(error);
      },
      onData(stream, session, callback) {
        const delay = behaviour.delayMs ?? 0;
        simpleParser(stream)
          .then(async (parsed) => {
            if (delay > 0) await new Promise((r) => setTimeout(r, delay));
            const to = session.envelope.rcptTo.map((r) => r.address);
            mails.push({
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              contentType: String(
                parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value?: string }).value,
              ),
              secure: session.secure,
              receivedAt: Date.now(),
            });
            for (const wake of waiters) wake();
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = make();
      server.on('error', () => {});
      server.listen(port, '127.0.0.1', () => resolve());
      server.server.once('error', reject);
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const s = server;
      server = null;
      if (!s) return resolve();
      s.close(() => resolve());
    });
  if (!options.stopped) await start();
  return {
    port,
    url: `${options.tls === 'implicit' ? 'smtps' : 'smtp'}://127.0.0.1:${port}`,
    mails,
    behaviour,
    start,
    stop,
    waitForMail(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = mails.find(match);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching mail within ${timeoutMs} ms (received ${mails.length})`));
        }, timeoutMs);
        const wake = () => void check();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        check();
      });
    },
  };
}

/** The one line of a mail's text part that is a link to `/account/<page>` (API.md: alone on its line). */
export function linkIn(mail: Pick<ReceivedMail, 'text'>, page: string): URL {
  const lines = mail.text.split(/\r?\n/).filter((line) => line.includes(`/account/${page}?token=`));
  if (lines.length !== 1)
    throw new Error(`expected one /account/${page} link line, found ${lines.length}:\n${mail.text}`);
  const line = (lines[0] ?? '').trim();
  if (!/^https?:\/\/\S+$/.test(line)) throw new Error(`the link is not alone on its line: ${JSON.stringify(line)}`);
  return new URL(line);
}

/** The token of a mail's link to `/account/<page>`. */
export function tokenIn(mail: Pick<ReceivedMail, 'text'>, page: string): string {
  const token = linkIn(mail, page).searchParams.get('token');
  if (!token) throw new Error('the link has no token');
  return token;
}
