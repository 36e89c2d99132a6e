import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { randomId } from '../../kernel/crypto/encoding.js';
import type { Clock, Mailer, OutgoingMail } from '../../kernel/ports.js';
import type { MailRequest } from '../../server/context.js';

/** Mails waiting or being sent, at most: past it a new mail is dropped (and counted) rather than exhaust memory. */
const MAX_QUEUED = 10_000;
/** The first retry waits this long, then twice as long each time (up to the configured maximum). */
const FIRST_RETRY_MS = 1000;
/** How long `close()` waits for mails being sent. */
const CLOSE_GRACE_MS = 2000;

/** Anything in a log line that could be a link or a token: a run of 32+ base64url characters. */
const TOKEN_LIKE = /[A-Za-z0-9_-]{32,}/g;

/** The mail counters of `/metrics`. */
export class MailMetrics {
  readonly sent: Counter<'template'>;
  readonly failed: Counter<'template' | 'reason'>;
  readonly retries: Counter<'template'>;
  readonly queued: Gauge;

  constructor(registry: Registry) {
    this.sent = new Counter({
      name: 'tokenward_mail_sent_total',
      help: 'Mails the transport accepted, by template',
      labelNames: ['template'],
      registers: [registry],
    });
    this.failed = new Counter({
      name: 'tokenward_mail_failed_total',
      help: 'Mails given up: rejected (a permanent SMTP refusal), expired (still failing when their link expired), overflow (queue full)',
      labelNames: ['template', 'reason'],
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'tokenward_mail_retries_total',
      help: 'Failed delivery attempts that will be retried',
      labelNames: ['template'],
      registers: [registry],
    });
    this.queued = new Gauge({
      name: 'tokenward_mail_queued',
      help: 'Mails waiting to be sent or being sent',
      registers: [registry],
    });
  }
}

interface QueuedMail {
  id: string;
  request: MailRequest;
  attempts: number;
  /** Real time (Date.now()) before which it is not tried again. */
  notBefore: number;
}

/** What {@link MailQueue} needs. */
export interface MailQueueOptions {
  transport: Mailer;
  render: (request: MailRequest) => OutgoingMail;
  /** Decides when a mail's link has expired (the server's clock). */
  clock: Clock;
  logger: Logger;
  metrics: MailMetrics;
  /** Mails sent at once. */
  concurrency: number;
  retryMaxDelayMs: number;
}

/**
 * The mail queue: a request that mails returns at once, and the mail goes out here, a few at a
 * time. A transient failure (the SMTP server down, slow, busy, a 4xx) is retried with exponential
 * backoff for as long as the mail is worth sending (until its link expires); a permanent refusal
 * (5xx) is dropped. Every outcome is counted; failures are logged with the mail's id, template
 * and account, never its address, link or token (every token-like run of the error text is
 * redacted too). The queue lives in process memory: mails still queued when the process stops are
 * lost (logged), and the user asks for a new link.
 */
export class MailQueue {
  readonly #o: MailQueueOptions;
  readonly #pending: QueuedMail[] = [];
  #active = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #scheduled = false;
  #idle: Array<() => void> = [];

  constructor(options: MailQueueOptions) {
    this.#o = options;
  }

  /** Queues a mail (never throws, never waits). */
  enqueue(request: MailRequest): void {
    const { metrics, logger } = this.#o;
    if (this.#closed || this.#pending.length + this.#active >= MAX_QUEUED) {
      metrics.failed.inc({ template: request.template, reason: 'overflow' });
      logger.error(
        { template: request.template, userId: request.userId ?? null },
        'mail queue full or closed: mail dropped',
      );
      return;
    }
    this.#pending.push({ id: randomId(), request, attempts: 0, notBefore: 0 });
    this.#update();
    // Rendering and sending start on a later turn: the request that queued the mail never waits for them.
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
  }

  /** Mails waiting or being sent. */
  get size(): number {
    return this.#pending.length + this.#active;
  }

  /** Resolves once nothing is waiting or being sent (tests, graceful shutdown). */
  drained(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops sending: waits briefly for mails in flight, logs what stays unsent, closes the transport. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#active > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
      ]);
    }
    if (this.#pending.length > 0)
      this.#o.logger.warn(
        { unsent: this.#pending.length },
        'mail queue closed with mails still waiting; they are not sent',
      );
    await this.#o.transport.close().catch(() => {});
  }

  #update(): void {
    this.#o.metrics.queued.set(this.size);
    if (this.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  #pump(): void {
    if (this.#closed) return;
    const now = Date.now();
    for (let i = 0; i < this.#pending.length && this.#active < this.#o.concurrency; ) {
      const item = this.#pending[i] as QueuedMail;
      if (item.notBefore <= now) {
        this.#pending.splice(i, 1);
        void this.#attempt(item);
      } else i++;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length > 0 && this.#active < this.#o.concurrency) {
      const next = Math.min(...this.#pending.map((m) => m.notBefore));
      this.#timer = setTimeout(
        () => {
          this.#timer = null;
          this.#pump();
        },
        Math.max(0, next - now),
      );
      this.#timer.unref();
    }
  }

  async #attempt(item: QueuedMail): Promise<void> {
    const { transport, metrics, logger, clock } = this.#o;
    const { template } = item.request;
    this.#active++;
    try {
      await transport.send(this.#o.render(item.request));
      metrics.sent.inc({ template });
    } catch (error) {
      item.attempts++;
      const permanent = (error as { permanent?: unknown }).permanent === true;
      const delay = Math.min(FIRST_RETRY_MS * 2 ** (item.attempts - 1), this.#o.retryMaxDelayMs);
      const log = {
        mailId: item.id,
        template,
        userId: item.request.userId ?? null,
        attempt: item.attempts,
        err: describe(error, item.request),
      };
      if (permanent) {
        metrics.failed.inc({ template, reason: 'rejected' });
        logger.error(log, 'mail refused by the SMTP server; not retried');
      } else if (clock.now() + delay >= item.request.expiresAt || this.#closed) {
        metrics.failed.inc({ template, reason: 'expired' });
        logger.error(log, 'mail still undeliverable when its link expires; given up');
      } else {
        metrics.retries.inc({ template });
        logger.warn({ ...log, retryInMs: delay }, 'mail delivery failed; will retry');
        item.notBefore = Date.now() + delay;
        this.#pending.push(item);
      }
    } finally {
      this.#active--;
      this.#update();
      this.#pump();
    }
  }
}

/** The error of a failed attempt for a log line: code, reply and message, with every secret of the mail redacted. */
function describe(error: unknown, request: MailRequest): string {
  const e = error as { code?: unknown; responseCode?: unknown; message?: unknown } | null;
  let text = [e?.code, e?.responseCode, typeof e?.message === 'string' ? e.message : String(error)]
    .filter((part) => part !== undefined && part !== null && part !== '')
    .join(' ')
    .slice(0, 500);
  for (const value of Object.values(request.variables))
    if (value.length >= 8) text = text.split(value).join('[redacted]');
  return text.replace(TOKEN_LIKE, '[redacted]');
}
