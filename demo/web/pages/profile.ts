import type { User } from '../../../src/client/index.js';
import { api, describeProblem } from '../api.js';
import { card, formatTime, h, replace } from '../dom.js';
import type { Page } from '../page.js';

function row(label: string, value: Node | string): HTMLElement[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

export const profilePage: Page = {
  title: 'Profile',
  requiresAuth: true,
  render({ client }) {
    const state = client.state();
    if (state.status !== 'authenticated') return h('div');
    const { user, session } = state;
    const fromApi = h('div', { class: 'loading' }, 'Asking /api/profile…');
    void api<{ user: User }>('/api/profile').then((result) => {
      if (!result.ok)
        return replace(fromApi, h('p', { class: 'status status-error' }, describeProblem(result.problem)));
      const u = result.data.user;
      replace(
        fromApi,
        h(
          'dl',
          { class: 'facts' },
          ...row('User id', h('code', {}, u.id)),
          ...row('Email', u.email),
          ...row('Name', u.name ?? '—'),
          ...row('Member since', formatTime(u.createdAt)),
        ),
      );
    });
    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, `Hello, ${user.name || user.email.split('@')[0]}`),
        h(
          'p',
          { class: 'lead' },
          'Who the server thinks you are, read two ways: from the SDK (GET /auth/me) and from an application route behind the session middleware (GET /api/profile).',
        ),
      ),
      h(
        'div',
        { class: 'grid-2' },
        card(
          'Who am I · /auth/me',
          h(
            'dl',
            { class: 'facts' },
            ...row('Email', user.email),
            ...row('Name', user.name ?? '—'),
            ...row('Session id', h('code', {}, session.id)),
            ...row('Signed in', formatTime(session.createdAt)),
            ...row('Access token renews', formatTime(session.accessExpiresAt)),
            ...row('Session ends at the latest', formatTime(session.expiresAt)),
          ),
        ),
        card(
          'Application view · /api/profile',
          fromApi,
          h(
            'p',
            { class: 'muted small' },
            'The route reads the user id from the verified access token in the HttpOnly cookie; the page never sees the token.',
          ),
        ),
      ),
      card(
        'Where to next',
        h(
          'div',
          { class: 'tiles' },
          tile('/notes', 'Notes', 'Private notes behind the session and CSRF rule.'),
          tile('/sessions', 'Sessions', 'Every device signed in to this account.'),
          tile('/security', 'Security', 'Two-factor, password and the audit trail.'),
          tile('/transfer', 'Transfer', 'A risky action that asks for step-up.'),
          tile('/lab', 'Security lab', 'Run classic attacks against this page.'),
        ),
      ),
    );
  },
};

function tile(href: string, title: string, text: string): HTMLElement {
  return h('a', { href, class: 'tile' }, h('strong', {}, title), h('span', {}, text));
}
