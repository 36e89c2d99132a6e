import { api, client, demoFeatures, describeProblem, loginSecondFactor, loginWithPassword, passkeys } from '../api.js';
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
      h('li', {}, 'Passkeys, an authenticator-app second factor, and step-up for risky actions'),
    ),
  );
}

/**
 * The pending passkey request of the autofill (conditional mediation): one per page at most.
 * Aborted before any other WebAuthn ceremony starts and when the login form goes away.
 */
let autofill: AbortController | undefined;

function stopAutofill(): void {
  autofill?.abort();
  autofill = undefined;
}

/** True when a passkey ceremony ended because we aborted it (not an error to show). */
function aborted(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function authLayout(testid: string, formCard: HTMLElement): HTMLElement {
  return h('div', { class: 'auth-layout', 'data-testid': testid }, intro(), formCard);
}

/** Password step, then (when the account has TOTP) the authenticator-code step. */
function renderLogin(context: PageContext, options: { notice?: string } = {}): HTMLElement {
  const status = statusLine();
  /** The autofill requests this rendering started (aborted when it leaves the page). */
  const owned = new Set<AbortController>();
  const body = h('div', { class: 'card auth-card' });
  const passwordStep = (): HTMLElement => {
    // `webauthn` in autocomplete: the browser offers this site's passkeys in the field's autofill.
    const email = h('input', {
      name: 'email',
      type: 'email',
      autocomplete: 'username webauthn',
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
      passkeys.supported() ? passkeyButton : null,
      magic,
      h(
        'p',
        { class: 'muted center' },
        h('a', { href: '/forgot-password', 'data-testid': 'forgot-link' }, 'Forgot password?'),
        ' · New here? ',
        h('a', { href: '/signup' }, 'Create an account'),
      ),
    );
    // A passkey picked from the email field's autofill signs in without a click on anything else.
    const startAutofill = async () => {
      if (!passkeys.supported() || !(await passkeys.autofillSupported()) || !form.isConnected) return;
      // After the await: another rendering may have started its own request meanwhile; one at a time.
      stopAutofill();
      const controller = new AbortController();
      autofill = controller;
      owned.add(controller);
      try {
        await passkeys.login({ autofill: true, signal: controller.signal });
      } catch (error) {
        if (!aborted(error) && autofill === controller) status.show('error', describeProblem(error));
      }
    };
    passkeyButton.addEventListener('click', () => {
      status.show(null);
      stopAutofill();
      void busy(form, async () => {
        try {
          await passkeys.login(email.value.trim() ? { email: email.value.trim() } : {});
        } catch (error) {
          status.show('error', describeProblem(error));
          void startAutofill();
        }
      });
    });
    queueMicrotask(() => void startAutofill());
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
      stopAutofill();
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
  const passkeyButton = h(
    'button',
    { type: 'button', id: 'passkey-login', class: 'btn btn-ghost btn-block' },
    'Sign in with a passkey',
  );
  const codeStep = (): HTMLElement => {
    stopAutofill();
    const codeStatus = statusLine();
    const usePasskey = h(
      'button',
      { type: 'button', id: 'mfa-passkey', class: 'btn btn-ghost btn-block' },
      'Use a passkey instead',
    );
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
      h(
        'p',
        { class: 'muted' },
        'Enter the 6-digit code from your authenticator app or one of your recovery codes — or use one of your passkeys.',
      ),
      field('Code', code),
      codeStatus.el,
      h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Verify'),
      passkeys.supported() ? usePasskey : null,
      h(
        'button',
        { type: 'button', class: 'link-button center', onclick: () => replace(body, passwordStep()) },
        'Back to password',
      ),
    );
    usePasskey.addEventListener('click', () => {
      void busy(form, async () => {
        try {
          await passkeys.loginSecondFactor();
        } catch (error) {
          if (error instanceof Error && 'code' in error && error.code === 'mfa_pending_invalid') {
            replace(body, passwordStep());
            status.show('error', describeProblem(error));
            return;
          }
          codeStatus.show('error', describeProblem(error));
        }
      });
    });
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
  // The login form left the page (signed in, or another page): its autofill request goes too.
  let attached = false;
  new MutationObserver((_, observer) => {
    if (body.isConnected) {
      attached = true;
      return;
    }
    if (!attached) return;
    for (const controller of owned) controller.abort();
    if (autofill && owned.has(autofill)) autofill = undefined;
    observer.disconnect();
  }).observe(document.body, { childList: true, subtree: true });
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
    // `webauthn` in autocomplete: the browser offers this site's passkeys in the field's autofill.
    const email = h('input', {
      name: 'email',
      type: 'email',
      autocomplete: 'username webauthn',
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
