import { api, client, demoFeatures, describeProblem, loginSecondFactor, loginWithPassword } from '../api.js';
import { busy, field, h, replace, statusLine } from '../dom.js';
import type { Page, PageContext } from '../page.js';

function intro(): HTMLElement {
  return h(
    'div',
    { class: 'auth-intro' },
    h('h1', { class: 'hero-title' }, 'Sign-in that keeps tokens out of reach'),
    h(
      'p',
      { class: 'lead' },
      'This demo runs on Tokenward. Every page talks to the server through the browser SDK, and the session lives in cookies that JavaScript cannot read.',
    ),
    h(
      'ul',
      { class: 'checklist' },
      h('li', {}, 'HttpOnly, ', h('code', {}, '__Host-'), ' cookies with rotating refresh tokens'),
      h('li', {}, 'CSRF rule on every state-changing request'),
      h('li', {}, 'Sessions you can see and end, on every device'),
      h('li', {}, 'Authenticator-app second factor and step-up for risky actions'),
    ),
  );
}

function authLayout(testid: string, formCard: HTMLElement): HTMLElement {
  return h('div', { class: 'auth-layout', 'data-testid': testid }, intro(), formCard);
}

/** Password step, then (when the account has TOTP) the authenticator-code step. */
function renderLogin(context: PageContext, options: { notice?: string } = {}): HTMLElement {
  const status = statusLine();
  const body = h('div', { class: 'card auth-card' });
  const passwordStep = (): HTMLElement => {
    const email = h('input', {
      name: 'email',
      type: 'email',
      autocomplete: 'username',
      required: true,
      placeholder: 'you@example.com',
    });
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
      minlength: 8,
    });
    const magic = h(
      'button',
      { type: 'button', class: 'btn btn-ghost btn-block', 'data-testid': 'magic-link-button', hidden: true },
      'Email me a sign-in link',
    );
    const form = h(
      'form',
      { id: 'login-form', class: 'stack' },
      h('h2', { class: 'card-title' }, 'Log in'),
      options.notice ? h('p', { class: 'notice' }, options.notice) : null,
      field('Email', email),
      field('Password', password),
      status.el,
      h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in'),
      magic,
      h(
        'p',
        { class: 'muted center' },
        h('a', { href: '/forgot-password', 'data-testid': 'forgot-link' }, 'Forgot password?'),
        ' · New here? ',
        h('a', { href: '/signup' }, 'Create an account'),
      ),
    );
    // A sign-in link by mail instead of the password (when the server offers magic links).
    magic.addEventListener('click', () => {
      status.show(null);
      if (!email.checkValidity()) return status.show('error', 'Enter your email address first.');
      void busy(form, async () => {
        const result = await api('/auth/magic-link', { method: 'POST', body: { email: email.value } });
        if (!result.ok) return status.show('error', describeProblem(result.problem));
        status.show(
          'ok',
          `If an account exists for ${email.value.trim()}, a sign-in link is on its way (see the Outbox).`,
        );
      });
    });
    void demoFeatures().then((f) => {
      magic.hidden = !f.magicLink;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.show(null);
      void busy(form, async () => {
        try {
          const result = await loginWithPassword(email.value, password.value);
          if (!result.ok) {
            status.show('error', describeProblem(result.problem));
            password.select();
          } else if ('mfaRequired' in result.data) replace(body, codeStep());
          // Otherwise the SDK's state change re-renders the app.
        } catch (error) {
          status.show('error', describeProblem(error));
        }
      });
    });
    queueMicrotask(() => email.focus());
    return form;
  };
  const codeStep = (): HTMLElement => {
    const codeStatus = statusLine();
    const code = h('input', {
      name: 'code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      required: true,
      placeholder: '123456',
      maxlength: 20,
      class: 'code-input',
    });
    const form = h(
      'form',
      { id: 'mfa-form', class: 'stack' },
      h('h2', { class: 'card-title' }, 'Two-factor authentication'),
      h('p', { class: 'muted' }, 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.'),
      field('Code', code),
      codeStatus.el,
      h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Verify'),
      h(
        'button',
        { type: 'button', class: 'link-button center', onclick: () => replace(body, passwordStep()) },
        'Back to password',
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(form, async () => {
        try {
          const result = await loginSecondFactor(code.value);
          if (result.ok) return;
          if (result.problem.code === 'mfa_pending_invalid') {
            replace(body, passwordStep());
            status.show('error', describeProblem(result.problem));
            return;
          }
          codeStatus.show('error', describeProblem(result.problem));
          code.select();
        } catch (error) {
          codeStatus.show('error', describeProblem(error));
        }
      });
    });
    queueMicrotask(() => code.focus());
    return form;
  };
  replace(body, passwordStep());
  void context;
  return authLayout('login-page', body);
}

export const loginPage: Page & { render(context: PageContext, options?: { notice?: string }): HTMLElement } = {
  title: 'Log in',
  requiresAuth: false,
  render: renderLogin,
};

export const signupPage: Page = {
  title: 'Sign up',
  requiresAuth: false,
  render() {
    const status = statusLine();
    const name = h('input', {
      name: 'name',
      type: 'text',
      autocomplete: 'name',
      maxlength: 100,
      placeholder: 'Ada Lovelace',
    });
    const email = h('input', {
      name: 'email',
      type: 'email',
      autocomplete: 'username',
      required: true,
      placeholder: 'you@example.com',
    });
    const password = h('input', {
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      required: true,
      minlength: 8,
    });
    const form = h(
      'form',
      { id: 'signup-form', class: 'stack' },
      h('h2', { class: 'card-title' }, 'Create an account'),
      field('Name (optional)', name),
      field('Email', email),
      field('Password', password, 'At least 8 characters; common and breached passwords are refused.'),
      status.el,
      h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign up'),
      h('p', { class: 'muted center' }, 'Already have an account? ', h('a', { href: '/login' }, 'Log in')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.show(null);
      void busy(form, async () => {
        try {
          const details = { email: email.value, password: password.value };
          await client.signup(name.value.trim() ? { ...details, name: name.value.trim() } : details);
        } catch (error) {
          // With TOKENWARD_REQUIRE_EMAIL_VERIFICATION the account exists but has no session yet.
          if ((error as { code?: string }).code === 'email_unverified')
            status.show(
              'ok',
              'Account created. Open the link we mailed you (see the Outbox) to confirm your address, then log in.',
            );
          else status.show('error', describeProblem(error));
        }
      });
    });
    queueMicrotask(() => name.focus());
    return authLayout('signup-page', h('div', { class: 'card auth-card' }, form));
  },
};
