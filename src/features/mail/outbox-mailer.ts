import { randomId } from '../../kernel/crypto/encoding.js';
import type { Clock, Mailer, OutgoingMail } from '../../kernel/ports.js';
import type { KeptMail } from '../../server/context.js';

/** Mails kept (the newest); older ones are dropped so the outbox never grows without bound. */
const KEPT = 200;

/**
 * The in-process "outbox" used when no SMTP URL is set: it keeps the last mails in memory so a
 * developer (and the demo's Outbox page) can read them. It delivers nothing: with
 * `NODE_ENV=production` the mail feature warns at start.
 */
export class OutboxMailer implements Mailer {
  readonly #kept: KeptMail[] = [];
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async send(mail: OutgoingMail): Promise<void> {
    this.#kept.unshift({ id: randomId(), ...mail, sentAt: this.#clock.now() });
    if (this.#kept.length > KEPT) this.#kept.length = KEPT;
  }

  /** The kept mails, newest first (copies). */
  list(): KeptMail[] {
    return this.#kept.map((m) => ({ ...m }));
  }

  async close(): Promise<void> {}
}
