import { describeProblem } from '../api.js';
import { busy, h, relativeTime, replace, statusLine } from '../dom.js';
import type { Page } from '../page.js';

interface OutboxMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  sentAt: string;
}

/** A mail's text part with its links made clickable (text only: nothing from the mail becomes markup). */
function mailText(text: string): HTMLElement {
  const lines = text
    .split('\n')
    .map((line) =>
      /^https?:\/\/\S+$/.test(line.trim())
        ? h('a', { href: line.trim(), class: 'mail-link', 'data-testid': 'mail-link' }, line.trim())
        : h('span', {}, line),
    );
  const out = h('div', { class: 'mail-text' });
  for (const line of lines) out.append(line, document.createElement('br'));
  return out;
}

/**
 * `/outbox`: the mails this demo would have sent (no SMTP server configured), newest first, read
 * from `GET /outbox` (JSON). Links open the app's `/account/*` pages like a mail client would.
 */
export const outboxPage: Page = {
  title: 'Outbox',
  requiresAuth: false,
  render() {
    const status = statusLine();
    const list = h('div', { class: 'stack', 'data-testid': 'outbox' }, h('div', { class: 'loading' }, 'Loading…'));
    const refresh = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Refresh');
    const load = async () => {
      const response = await fetch('/outbox', { headers: { accept: 'application/json' } }).catch(
        (e: unknown) => e as Error,
      );
      if (response instanceof Error) return status.show('error', describeProblem(response));
      if (!response.ok)
        return replace(
          list,
          h('p', { class: 'muted' }, 'This server sends real mail (SMTP): there is no outbox to show.'),
        );
      const { mails } = (await response.json()) as { mails: OutboxMail[] };
      replace(
        list,
        ...(mails.length
          ? mails.map((m) =>
              h(
                'article',
                { class: 'card mail', 'data-testid': 'outbox-mail' },
                h(
                  'div',
                  { class: 'card-head' },
                  h('strong', { class: 'mail-subject' }, m.subject),
                  h('time', { class: 'muted small', datetime: m.sentAt }, relativeTime(m.sentAt)),
                ),
                h('p', { class: 'muted small' }, 'To: ', h('span', { 'data-testid': 'mail-to' }, m.to)),
                mailText(m.text),
              ),
            )
          : [h('p', { class: 'empty' }, 'No mail yet. Sign up, or ask for a reset or sign-in link.')]),
      );
    };
    refresh.addEventListener('click', () => void busy(refresh, load));
    void load();
    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('div', { class: 'card-head' }, h('h1', {}, 'Outbox'), refresh),
        h(
          'p',
          { class: 'lead' },
          'No SMTP server is configured (TOKENWARD_SMTP_URL), so this demo keeps the mails it would send here: verification, reset and sign-in links, email-change notices and new-device alerts.',
        ),
      ),
      status.el,
      list,
    );
  },
};
