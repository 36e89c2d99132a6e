import { api, describeProblem } from '../api.js';
import { busy, field, h, statusLine } from '../dom.js';
import type { Page } from '../page.js';

/** `/forgot-password`: asks for a reset link. The answer is the same whether or not the address has an account. */
export const forgotPage: Page = {
  title: 'Forgot password',
  requiresAuth: false,
  render() {
    const status = statusLine();
    const email = h('input', {
      name: 'email',
      type: 'email',
      autocomplete: 'username',
      required: true,
      placeholder: 'you@example.com',
    });
    const form = h(
      'form',
      { id: 'forgot-form', class: 'stack' },
      h('h2', { class: 'card-title' }, 'Forgot your password?'),
      h('p', { class: 'muted' }, 'We mail a link to choose a new one. It works once, for 15 minutes.'),
      field('Email', email),
      status.el,
      h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Mail me a reset link'),
      h('p', { class: 'muted center' }, h('a', { href: '/login' }, 'Back to log in')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.show(null);
      void busy(form, async () => {
        const result = await api('/auth/password/forgot', { method: 'POST', body: { email: email.value } });
        if (!result.ok) return status.show('error', describeProblem(result.problem));
        status.show(
          'ok',
          `If an account exists for ${email.value.trim()}, a reset link is on its way. (This demo keeps its mails in the Outbox.)`,
        );
      });
    });
    queueMicrotask(() => email.focus());
    return h(
      'div',
      { class: 'auth-layout single', 'data-testid': 'forgot-page' },
      h('div', { class: 'card auth-card' }, form),
    );
  },
};
