/**
 * The pages email links open (`/account/<purpose>?token=…`). Opening a link changes nothing —
 * mail scanners fetch links before people do — so each page shows what the link will do and
 * POSTs the token only when the person confirms.
 */
import { api, client, describeProblem, linkSignIn, loginSecondFactor } from '../api.js';
import { busy, field, h, replace, statusLine } from '../dom.js';
import type { Page, PageContext } from '../page.js';

/**
 * The link's token. It stays in the address (a reload must still work; the page is never cached
 * and sends no Referer, so it goes nowhere else) and is used only when the person confirms.
 */
function takeToken(): string {
  return new URLSearchParams(location.search).get('token') ?? '';
}

function layout(testid: string, ...children: Array<HTMLElement | null>): HTMLElement {
  return h(
    'div',
    { class: 'auth-layout single', 'data-testid': testid },
    h('div', { class: 'card auth-card stack' }, ...children),
  );
}

function linkError(): HTMLElement {
  return h(
    'p',
    { class: 'status status-error', 'data-testid': 'link-error' },
    'This link is invalid, expired or was already used. ',
    h('a', { href: '/forgot-password' }, 'Ask for a new one'),
    '.',
  );
}

/** A confirm page with one button (verify, confirm an email change, "this wasn't me"). */
function confirmPage(options: {
  testid: string;
  title: string;
  text: string;
  button: string;
  done: string;
  post: (token: string) => Promise<{ ok: boolean; problem?: { code: string } }>;
}): Page {
  return {
    title: options.title,
    requiresAuth: false,
    render() {
      const token = takeToken();
      const status = statusLine();
      const button = h(
        'button',
        { type: 'button', class: 'btn btn-primary btn-block', 'data-testid': 'confirm-link' },
        options.button,
      );
      const body = h('div', { class: 'stack' }, h('p', {}, options.text), status.el, button);
      button.addEventListener('click', () => {
        void busy(button, async () => {
          const result = await options.post(token);
          if (result.ok) {
            replace(
              body,
              h('p', { class: 'status status-ok', 'data-testid': 'link-done' }, options.done),
              h('a', { href: '/profile', class: 'btn btn-ghost' }, 'Continue'),
            );
            await client.me();
          } else if (result.problem?.code === 'invalid_link') replace(body, linkError());
          else status.show('error', describeProblem(result.problem));
        });
      });
      return layout(options.testid, h('h2', { class: 'card-title' }, options.title), token ? body : linkError());
    },
  };
}

export const verifyEmailPage = confirmPage({
  testid: 'verify-email-page',
  title: 'Confirm your email address',
  text: 'Confirm that this address is yours.',
  button: 'Confirm my address',
  done: 'Your address is confirmed.',
  post: (token) => api('/auth/email/verify', { method: 'POST', body: { token } }),
});

export const confirmEmailChangePage = confirmPage({
  testid: 'confirm-email-change-page',
  title: 'Confirm your new email address',
  text: 'Confirm this address as the new address of your account. Your sessions stay signed in.',
  button: 'Use this address',
  done: 'Your account now uses this address.',
  post: (token) => api('/auth/email/verify', { method: 'POST', body: { token } }),
});

export const notMePage = confirmPage({
  testid: 'not-me-page',
  title: 'Was this you?',
  text: 'If you did not just sign in on a new device, sign that session out now, then change your password.',
  button: 'This wasn\u2019t me \u2014 sign it out',
  done: 'That session is signed out. Change your password now.',
  post: (token) => api('/auth/sessions/not-me', { method: 'POST', body: { token } }),
});

/** After a link sign-in that needs the authenticator code. */
function codeStep(context: PageContext, into: HTMLElement): void {
  const status = statusLine();
  const code = h('input', {
    name: 'code',
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    required: true,
    class: 'code-input',
  });
  const form = h(
    'form',
    { id: 'mfa-form', class: 'stack' },
    h(
      'p',
      { class: 'muted' },
      'This account uses two-factor authentication: enter the code from your authenticator app.',
    ),
    field('Code', code),
    status.el,
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Verify'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(form, async () => {
      const result = await loginSecondFactor(code.value);
      if (result.ok) context.navigate('/profile', { replace: true });
      else status.show('error', describeProblem(result.problem));
    });
  });
  replace(into, form);
  code.focus();
}

export const resetPasswordPage: Page = {
  title: 'Choose a new password',
  requiresAuth: false,
  render(context) {
    const token = takeToken();
    const status = statusLine();
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      required: true,
      minlength: 8,
    });
    const body = h('div', { class: 'stack' });
    const form = h(
      'form',
      { id: 'reset-form', class: 'stack' },
      field(
        'New password',
        password,
        'At least 8 characters; common and breached passwords are refused. Every other session is signed out.',
      ),
      status.el,
      h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Set the new password'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.show(null);
      void busy(form, async () => {
        const result = await linkSignIn('/auth/password/reset', { token, password: password.value });
        if (!result.ok) {
          if (result.problem.code === 'invalid_link') return replace(body, linkError());
          return status.show('error', describeProblem(result.problem));
        }
        if ('mfaRequired' in result.data) return codeStep(context, body);
        context.navigate('/profile', { replace: true });
      });
    });
    replace(body, token ? form : linkError());
    queueMicrotask(() => password.focus());
    return layout('reset-password-page', h('h2', { class: 'card-title' }, 'Choose a new password'), body);
  },
};

export const magicLinkPage: Page = {
  title: 'Sign in',
  requiresAuth: false,
  render(context) {
    const token = takeToken();
    const status = statusLine();
    const body = h('div', { class: 'stack' });
    const button = h(
      'button',
      { type: 'button', class: 'btn btn-primary btn-block', 'data-testid': 'confirm-link' },
      'Sign in',
    );
    button.addEventListener('click', () => {
      void busy(button, async () => {
        const result = await linkSignIn('/auth/magic-link/verify', { token });
        if (!result.ok) {
          if (result.problem.code === 'invalid_link') return replace(body, linkError());
          return status.show('error', describeProblem(result.problem));
        }
        if ('mfaRequired' in result.data) return codeStep(context, body);
        context.navigate('/profile', { replace: true });
      });
    });
    replace(
      body,
      ...(token
        ? [h('p', {}, 'Sign in on this device with the link from your mail.'), status.el, button]
        : [linkError()]),
    );
    return layout('magic-link-page', h('h2', { class: 'card-title' }, 'Sign in with your link'), body);
  },
};
