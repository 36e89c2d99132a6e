import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { KernelConfig } from '../../kernel/config/kernel-config.js';
import { bool, duration, int, rate } from '../../kernel/config/option-types.js';
import type { MailTemplateId } from '../../server/context.js';
import { MAIL_TEMPLATE_IDS, type MailTemplate, resolveTemplates } from './templates.js';

const templateParts = z
  .object({ subject: z.string().min(1).max(500), text: z.string().min(1).max(20_000), html: z.string().max(100_000) })
  .partial()
  .strict();

/** The `mail` options (environment names in {@link MAIL_ENV}). */
export const mailOptionsSchema = z
  .object({
    /** `smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465` (TLS from the first byte). Unset: the in-process outbox. */
    smtpUrl: z.string().optional(),
    /** The sender, `no-reply@example.com` or `Acme <no-reply@example.com>`. */
    from: z.string().optional(),
    /** The product name the mails speak of (default: the public origin's host name). */
    productName: z.string().min(1).max(100).optional(),
    /** PEM file of the CA that signs the SMTP server's certificate (a private CA, or a self-signed test server). */
    smtpCaFile: z.string().min(1).optional(),
    /** Refuse to send over `smtp://` unless the server upgrades with STARTTLS (default: on, except on loopback). */
    smtpRequireTls: bool.optional(),
    /** Mails sent at once (and SMTP connections kept open). */
    concurrency: int(1).pipe(z.number().max(32)).default(4),
    /** Longest wait between two attempts of a failed mail (the first retry waits 1 s, doubling). */
    retryMaxDelay: duration('mail.retryMaxDelay').default(60),
    /** Reset and magic-link mails per address (API.md "Limits"). */
    limitPerAddress: rate('mail.limitPerAddress').default({ count: 3, windowSec: 3600 }),
    /** Reset and magic-link mails per IP network (API.md "Limits"). */
    limitPerIp: rate('mail.limitPerIp').default({ count: 20, windowSec: 3600 }),
    /** Overrides of the mail templates, part by part: `{ 'reset-password': { subject: '…' } }`. */
    templates: z.partialRecord(z.enum(MAIL_TEMPLATE_IDS), templateParts).optional(),
  })
  .strict();

/** Environment variable → option path. */
export const MAIL_ENV = {
  TOKENWARD_SMTP_URL: 'mail.smtpUrl',
  TOKENWARD_MAIL_FROM: 'mail.from',
  TOKENWARD_MAIL_PRODUCT_NAME: 'mail.productName',
  TOKENWARD_SMTP_CA_FILE: 'mail.smtpCaFile',
  TOKENWARD_SMTP_REQUIRE_TLS: 'mail.smtpRequireTls',
  TOKENWARD_MAIL_CONCURRENCY: 'mail.concurrency',
  TOKENWARD_MAIL_RETRY_MAX_DELAY: 'mail.retryMaxDelay',
  TOKENWARD_LIMIT_MAIL_PER_ADDRESS: 'mail.limitPerAddress',
  TOKENWARD_LIMIT_MAIL_PER_IP: 'mail.limitPerIp',
} as const;

/** Where SMTP mail goes (parsed from `smtpUrl`; the password never appears in a message). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** `smtps://`: TLS from the first byte. Else STARTTLS. */
  secure: boolean;
  auth: { user: string; pass: string } | null;
  requireTls: boolean;
  /** PEM text of the trusted CA (in addition to Node's), or null. */
  ca: string | null;
}

/** The resolved mail configuration (`config.mail`). */
export interface MailConfig {
  smtp: SmtpSettings | null;
  from: string | { name: string; address: string };
  productName: string;
  concurrency: number;
  retryMaxDelaySec: number;
  limitPerAddress: { count: number; windowSec: number };
  limitPerIp: { count: number; windowSec: number };
  templates: Record<MailTemplateId, MailTemplate>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
/** `a@b.c` or `Name <a@b.c>`: refused at start rather than by the SMTP server at the first mail. */
const FROM_SHAPE = /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/;

function fail(option: string, message: string): never {
  throw new ConfigError(`Invalid configuration: mail.${option} (env ${ENV_OF[option]}): ${message}`);
}
const ENV_OF = Object.fromEntries(Object.entries(MAIL_ENV).map(([env, path]) => [path.slice(5), env])) as Record<
  string,
  string
>;

function parseSmtpUrl(text: string, requireTls: boolean | undefined, caFile: string | undefined): SmtpSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail('smtpUrl', 'not a URL like smtp://user:password@mail.example.com:587');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') fail('smtpUrl', 'must start with smtp:// or smtps://');
  if (!url.hostname) fail('smtpUrl', 'names no host');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash)
    fail('smtpUrl', 'must be smtp(s)://[user:password@]host[:port] with no path or query');
  const secure = url.protocol === 'smtps:';
  let ca: string | null = null;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      fail('smtpCaFile', `cannot read ${caFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) fail('smtpCaFile', `${caFile} holds no PEM certificate`);
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : null,
    // A network attacker could strip STARTTLS from the server's answer and read every reset
    // link: required by default. A mail catcher on this machine usually has no TLS.
    requireTls: secure ? false : (requireTls ?? !LOOPBACK.has(url.hostname)),
    ca,
  };
}

/** Defaults and checks of the `mail` slice (one line naming the option on failure). */
export function resolveMailConfig(
  parsed: z.output<typeof mailOptionsSchema> | undefined,
  kernel: KernelConfig,
): MailConfig {
  const o = parsed ?? mailOptionsSchema.parse({});
  if (o.smtpCaFile !== undefined && o.smtpUrl === undefined)
    fail('smtpCaFile', 'needs mail.smtpUrl (env TOKENWARD_SMTP_URL)');
  const smtp = o.smtpUrl === undefined ? null : parseSmtpUrl(o.smtpUrl, o.smtpRequireTls, o.smtpCaFile);
  const productName = o.productName ?? kernel.publicHost;
  if (o.from !== undefined && !FROM_SHAPE.test(o.from.trim()))
    fail('from', 'must be an address like no-reply@example.com or "Acme <no-reply@example.com>"');
  return {
    smtp,
    from: o.from?.trim() ?? { name: productName, address: `no-reply@${kernel.publicHost}` },
    productName,
    concurrency: o.concurrency,
    retryMaxDelaySec: Math.max(1, o.retryMaxDelay),
    limitPerAddress: o.limitPerAddress,
    limitPerIp: o.limitPerIp,
    templates: resolveTemplates(o.templates ?? {}),
  };
}
