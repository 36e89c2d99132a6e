import type { Mailer, OutgoingMail } from '../../kernel/ports.js';
import type { SmtpSettings } from './options.js';

/** An SMTP failure, classified for the queue: a permanent one is never retried. */
export class MailDeliveryError extends Error {
  readonly permanent: boolean;
  /** nodemailer's error code (`ECONNECTION`, `ETLS`, `EENVELOPE`, …) and the server's reply code. */
  readonly code: string | undefined;
  readonly responseCode: number | undefined;
  constructor(message: string, details: { permanent: boolean; code?: string; responseCode?: number; cause?: unknown }) {
    super(message, { cause: details.cause });
    this.name = 'MailDeliveryError';
    this.permanent = details.permanent;
    this.code = details.code;
    this.responseCode = details.responseCode;
  }
}

/**
 * Whether an SMTP failure can never succeed: the server refused the message or a recipient with a
 * 5xx reply (RFC 5321 §4.2.1), or the envelope is invalid. Connection, TLS and authentication
 * failures and 4xx replies are transient (a server that is down, busy or being reconfigured):
 * retried until the mail's link expires.
 */
export function isPermanentSmtpError(error: { code?: unknown; responseCode?: unknown }): boolean {
  const reply = typeof error.responseCode === 'number' ? error.responseCode : 0;
  // A 4xx is "try again later" (RFC 5321 §4.2.1), also for a refused recipient (EENVELOPE).
  if (reply >= 400 && reply < 500) return false;
  if (error.code === 'EAUTH' || error.code === 'ETLS') return false;
  return error.code === 'EENVELOPE' || (reply >= 500 && reply < 600);
}

/**
 * Mail over SMTP with nodemailer (loaded here, so only when an SMTP URL is configured):
 * `smtps://` is TLS from the first byte; `smtp://` upgrades with STARTTLS, required unless the
 * configuration says otherwise. Certificates are always verified (`rejectUnauthorized` stays on);
 * a private or test CA is trusted through `mail.smtpCaFile`. Connections are pooled.
 *
 * @example
 * ```ts
 * const mailer = await createSmtpMailer(config.mail.smtp, config.mail.from, 4);
 * await mailer.send({ to: 'ada@example.com', subject: 'Hi', text: 'Hi', html: '<p>Hi</p>' });
 * ```
 */
export async function createSmtpMailer(
  smtp: SmtpSettings,
  from: string | { name: string; address: string },
  connections: number,
): Promise<Mailer> {
  const nodemailer = (await import('nodemailer')).default;
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: connections,
    maxMessages: 500,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTls,
    ...(smtp.auth ? { auth: smtp.auth } : {}),
    tls: {
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...(smtp.ca === null ? {} : { ca: [smtp.ca] }),
    },
    // Bounded waits: a server that stops answering costs a queue slot, never a request.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // Templates are data: nothing in a mail may make the server read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  return {
    async send(mail: OutgoingMail): Promise<void> {
      try {
        await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
      } catch (error) {
        const e = error as { code?: string; responseCode?: number; message?: string };
        throw new MailDeliveryError(e.message ?? 'SMTP delivery failed', {
          permanent: isPermanentSmtpError(e),
          ...(e.code === undefined ? {} : { code: e.code }),
          ...(e.responseCode === undefined ? {} : { responseCode: e.responseCode }),
          cause: error,
        });
      }
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}
