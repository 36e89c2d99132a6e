import { defineFeature, defineOptions } from '../feature.js';
import { MAIL_ENV, type MailConfig, mailOptionsSchema, resolveMailConfig } from './options.js';

/**
 * Mail delivery for every feature that mails (verification, reset, magic link, email change,
 * new-device alerts): SMTP through nodemailer when `TOKENWARD_SMTP_URL` is set (loaded only then),
 * else an in-process outbox. Queued, retried with backoff, counted in `/metrics`. Always on, and
 * first in feature order: the features that mail find it as `ctx.mailer`.
 */
export const mailFeature = defineFeature({
  id: 'mail',
  options: defineOptions({
    key: 'mail',
    schema: mailOptionsSchema,
    env: MAIL_ENV,
    resolve: (parsed, kernel): MailConfig => resolveMailConfig(parsed, kernel),
  }),
  enabled: () => true,
  errors: [],
  load: () => import('./module.js'),
});
