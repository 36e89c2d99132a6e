import type { Mailer } from '../../kernel/ports.js';
import type { MailSender } from '../../server/context.js';
import type { FeatureModule } from '../feature.js';
import { admitMail } from './mail-limits.js';
import { MailMetrics, MailQueue } from './mail-queue.js';
import type { MailConfig } from './options.js';
import { OutboxMailer } from './outbox-mailer.js';
import { renderMail } from './templates.js';

export const setup: FeatureModule['setup'] = async (ctx) => {
  const config = ctx.config.mail as MailConfig;
  let outbox: OutboxMailer | null = null;
  let transport: Mailer;
  if (config.smtp === null) {
    outbox = new OutboxMailer(ctx.clock);
    transport = outbox;
    if (process.env.NODE_ENV === 'production')
      ctx.logger.warn(
        {},
        'no SMTP server configured (mail.smtpUrl, env TOKENWARD_SMTP_URL): verification, reset and sign-in mails are kept in memory and never delivered',
      );
  } else {
    const { createSmtpMailer } = await import('./smtp-mailer.js');
    transport = await createSmtpMailer(config.smtp, config.from, config.concurrency);
  }
  const queue = new MailQueue({
    transport,
    render: (request) => renderMail(config.templates, config.productName, request),
    clock: ctx.clock,
    logger: ctx.logger,
    metrics: new MailMetrics(ctx.metrics.registry),
    concurrency: config.concurrency,
    retryMaxDelayMs: config.retryMaxDelaySec * 1000,
  });
  const mailer: MailSender = {
    send: (request) => queue.enqueue(request),
    admit: (scope, address, ip) =>
      admitMail(ctx.limiter, { mail: config, limits: ctx.config.limits }, scope, address, ip),
    outbox: () => outbox?.list() ?? null,
    drained: () => queue.drained(),
  };
  ctx.mailer = mailer;
  return { close: () => queue.close() };
};
