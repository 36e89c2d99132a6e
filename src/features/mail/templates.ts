import { ConfigError } from '../../errors.js';
import type { OutgoingMail } from '../../kernel/ports.js';
import type { MailRequest, MailTemplateId } from '../../server/context.js';

/** One mail's template: `{{variable}}` placeholders in the subject, the text part and the HTML part. */
export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}

/** Every template, in the order the docs list them. */
export const MAIL_TEMPLATE_IDS = [
  'verify-email',
  'reset-password',
  'magic-link',
  'confirm-email-change',
  'email-change-notice',
  'new-device',
] as const satisfies readonly MailTemplateId[];

/** The variables each template may use (`productName` is always there). */
export const TEMPLATE_VARIABLES: Readonly<Record<MailTemplateId, readonly string[]>> = {
  'verify-email': ['productName', 'link', 'email'],
  'reset-password': ['productName', 'link', 'email'],
  'magic-link': ['productName', 'link', 'email'],
  'confirm-email-change': ['productName', 'link', 'email', 'oldEmail'],
  'email-change-notice': ['productName', 'email', 'newEmailMasked'],
  'new-device': ['productName', 'link', 'email', 'device', 'ip', 'time'],
};

/**
 * Templates whose text part must hold the link alone on one line (API.md "Mail"): mail clients
 * make it clickable, and people (and tests) can copy it without the text around it.
 */
const LINKED: ReadonlySet<MailTemplateId> = new Set([
  'verify-email',
  'reset-password',
  'magic-link',
  'confirm-email-change',
  'new-device',
]);

const html = (title: string, body: string, button: string | null, footer: string): string =>
  `<!doctype html><html><body style="margin:0;padding:24px;background:#f5f6f8;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:#1d2330">` +
  `<div style="max-width:480px;margin:0 auto;background:#fff;border-radius:10px;padding:28px">` +
  `<h1 style="font-size:20px;margin:0 0 12px">${title}</h1>${body}` +
  (button === null
    ? ''
    : `<p style="margin:24px 0"><a href="{{link}}" style="background:#3b5bdb;color:#fff;text-decoration:none;padding:10px 18px;border-radius:6px;display:inline-block">${button}</a></p>` +
      `<p style="font-size:13px;color:#5c6370;word-break:break-all">Or open this link: {{link}}</p>`) +
  `<p style="font-size:13px;color:#5c6370;margin-top:24px">${footer}</p></div></body></html>`;

/** The templates Tokenward ships (English); an application overrides any part of any of them. */
export const DEFAULT_TEMPLATES: Readonly<Record<MailTemplateId, MailTemplate>> = {
  'verify-email': {
    subject: 'Confirm your email address for {{productName}}',
    text: 'Confirm that {{email}} is your address for {{productName}} by opening this link:\n\n{{link}}\n\nThe link works once, for 24 hours. If you did not sign up, ignore this mail.\n',
    html: html(
      'Confirm your email address',
      '<p>Confirm that <strong>{{email}}</strong> is your address for {{productName}}.</p>',
      'Confirm my address',
      'The link works once, for 24 hours. If you did not sign up, ignore this mail.',
    ),
  },
  'reset-password': {
    subject: 'Reset your {{productName}} password',
    text: 'Someone (hopefully you) asked to reset the password of {{email}} on {{productName}}. Choose a new password here:\n\n{{link}}\n\nThe link works once, for 15 minutes. If you did not ask, ignore this mail: your password stays as it is.\n',
    html: html(
      'Reset your password',
      '<p>Someone (hopefully you) asked to reset the password of <strong>{{email}}</strong> on {{productName}}.</p>',
      'Choose a new password',
      'The link works once, for 15 minutes. If you did not ask, ignore this mail: your password stays as it is.',
    ),
  },
  'magic-link': {
    subject: 'Your {{productName}} sign-in link',
    text: 'Sign in to {{productName}} as {{email}} with this link:\n\n{{link}}\n\nThe link works once, for 15 minutes. If you did not ask for it, ignore this mail.\n',
    html: html(
      'Sign in to {{productName}}',
      '<p>Sign in as <strong>{{email}}</strong> with the button below.</p>',
      'Sign in',
      'The link works once, for 15 minutes. If you did not ask for it, ignore this mail.',
    ),
  },
  'confirm-email-change': {
    subject: 'Confirm your new email address for {{productName}}',
    text: 'Confirm {{email}} as the new address of your {{productName}} account (now {{oldEmail}}):\n\n{{link}}\n\nThe link works once, for 24 hours. If you did not ask for this change, ignore this mail.\n',
    html: html(
      'Confirm your new email address',
      '<p>Confirm <strong>{{email}}</strong> as the new address of your {{productName}} account (now {{oldEmail}}).</p>',
      'Confirm the new address',
      'The link works once, for 24 hours. If you did not ask for this change, ignore this mail.',
    ),
  },
  'email-change-notice': {
    subject: 'Your {{productName}} email address is being changed',
    text: 'Someone signed in to your {{productName}} account ({{email}}) asked to change its address to {{newEmailMasked}}. A confirmation link went to the new address.\n\nIf this was not you, change your password now: that cancels the change and signs everyone else out.\n',
    html: html(
      'Your email address is being changed',
      '<p>Someone signed in to your {{productName}} account (<strong>{{email}}</strong>) asked to change its address to {{newEmailMasked}}. A confirmation link went to the new address.</p>',
      null,
      'If this was not you, change your password now: that cancels the change and signs everyone else out.',
    ),
  },
  'new-device': {
    subject: 'New sign-in to {{productName}}',
    text: 'Your {{productName}} account ({{email}}) was signed in from {{device}} ({{ip}}) at {{time}}.\n\nIf this wasn\u2019t you, sign that session out here:\n\n{{link}}\n\nThen change your password.\n',
    html: html(
      'New sign-in',
      '<p>Your {{productName}} account (<strong>{{email}}</strong>) was signed in from <strong>{{device}}</strong> ({{ip}}) at {{time}}.</p>',
      'This wasn\u2019t me',
      'If this wasn\u2019t you, use the button to sign that session out, then change your password.',
    ),
  },
};

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

/** Checks a template against its variables and the one-line link rule; the message names the option. */
function checkTemplate(id: MailTemplateId, template: MailTemplate, option: string): void {
  for (const part of ['subject', 'text', 'html'] as const) {
    for (const [, name] of template[part].matchAll(PLACEHOLDER)) {
      if (!TEMPLATE_VARIABLES[id].includes(name ?? ''))
        throw new ConfigError(
          `Invalid configuration: ${option}.${part}: unknown variable {{${name}}} (${id} knows ${TEMPLATE_VARIABLES[id].map((v) => `{{${v}}}`).join(', ')})`,
        );
    }
  }
  if (LINKED.has(id) && !template.text.split(/\r?\n/).some((line) => line.trim().replace(/\s+/g, '') === '{{link}}'))
    throw new ConfigError(
      `Invalid configuration: ${option}.text: the text part must hold {{link}} alone on one line (API.md "Mail")`,
    );
}

/** The default templates with an application's overrides applied (each part separately), checked. */
export function resolveTemplates(
  overrides: Partial<Record<MailTemplateId, { [P in keyof MailTemplate]?: string | undefined }>> = {},
): Record<MailTemplateId, MailTemplate> {
  const out = {} as Record<MailTemplateId, MailTemplate>;
  for (const id of MAIL_TEMPLATE_IDS) {
    const given = overrides[id] ?? {};
    const template: MailTemplate = {
      subject: given.subject ?? DEFAULT_TEMPLATES[id].subject,
      text: given.text ?? DEFAULT_TEMPLATES[id].text,
      html: given.html ?? DEFAULT_TEMPLATES[id].html,
    };
    checkTemplate(id, template, `mail.templates.${id}`);
    out[id] = template;
  }
  return out;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

function fill(text: string, values: Readonly<Record<string, string>>, encode: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: string) => encode(values[name] ?? ''));
}

/**
 * Renders a queued mail: variables go into the HTML escaped (an address or a device name cannot
 * inject markup) and into the subject without line breaks (no header injection).
 *
 * @example
 * ```ts
 * const mail = renderMail(templates, 'Acme', { template: 'reset-password', to, variables: { link, email: to }, expiresAt });
 * ```
 */
export function renderMail(
  templates: Readonly<Record<MailTemplateId, MailTemplate>>,
  productName: string,
  request: MailRequest,
): OutgoingMail {
  const template = templates[request.template];
  const values = { ...request.variables, productName };
  return {
    to: request.to,
    subject: fill(template.subject, values, (v) => v.replace(/[\r\n\u2028\u2029]+/g, ' ')),
    text: fill(template.text, values, (v) => v),
    html: fill(template.html, values, escapeHtml),
  };
}

/** `ada@example.com` → `a••@example.com`: enough for the holder to recognise, little for anyone else. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email.slice(0, 1)}••@${email.slice(at + 1)}`;
}
