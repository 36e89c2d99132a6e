import { api, client, describeProblem, passkeys } from '../api.js';
import { busy, card, field, h, replace, statusLine } from '../dom.js';
import type { Page } from '../page.js';
import { withStepUp } from '../step-up.js';
import { addPasskey, passkeyNameInput, recoveryCodesPanel } from './security.js';

/**
 * The only page of a session restricted by `requireMfa` (`session.restriction ===
 * "mfa_enrollment"`): every other route answers 403 until the account has a second factor. Set
 * up a passkey (then sign in with it: a full session) or an authenticator app (then sign in
 * again with password + code).
 */
export const enrollPage: Page = {
  title: 'Set up a second factor',
  requiresAuth: true,
  render() {
    const status = statusLine();
    const passkeyBody = h('div', { class: 'stack' });
    const totpBody = h('div', { class: 'stack' });

    const passkeyStep = () => {
      const name = passkeyNameInput();
      const add = h('button', { id: 'enroll-passkey', type: 'submit', class: 'btn btn-primary' }, 'Add a passkey');
      const form = h('form', { class: 'inline-form' }, name, add);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        status.show(null);
        void busy(form, async () => {
          try {
            const added = await addPasskey(name.value);
            replace(passkeyBody, signInWithPasskey(added.name));
          } catch (error) {
            status.show('error', describeProblem(error));
          }
        });
      });
      replace(
        passkeyBody,
        h('p', {}, 'Your fingerprint, face or device PIN becomes your second factor — and signs you in on its own.'),
        passkeys.supported() ? form : h('p', { class: 'muted' }, 'This browser does not support passkeys.'),
      );
    };

    // This session proved one factor only; a sign-in with the new passkey is a full one, and the
    // restricted session is then ended.
    const signInWithPasskey = (name: string): HTMLElement => {
      const go = h('button', { id: 'enroll-signin', type: 'button', class: 'btn btn-primary' }, 'Sign in with it');
      go.addEventListener('click', () => {
        const state = client.state();
        const old = state.status === 'authenticated' ? state.session.id : null;
        void busy(go, async () => {
          try {
            await passkeys.login();
            if (old) await client.revokeSession(old).catch(() => undefined);
          } catch (error) {
            status.show('error', describeProblem(error));
          }
        });
      });
      return h(
        'div',
        { class: 'banner banner-ok', 'data-testid': 'enroll-passkey-done' },
        h('strong', {}, `Passkey “${name}” added`),
        h('span', {}, 'Sign in with it once to unlock your account.'),
        go,
      );
    };

    const totpStep = () => {
      const start = h(
        'button',
        { id: 'enroll-totp', type: 'button', class: 'btn btn-ghost' },
        'Set up an authenticator app',
      );
      start.addEventListener('click', () => {
        status.show(null);
        void busy(start, async () => {
          const result = await withStepUp('Setting up two-factor changes how you sign in.', () =>
            api<{ otpauthUri: string; qrSvg: string }>('/auth/totp/enroll', { method: 'POST' }),
          );
          if (!result.ok) return status.show('error', describeProblem(result.problem));
          const code = h('input', {
            name: 'code',
            type: 'text',
            inputmode: 'numeric',
            autocomplete: 'one-time-code',
            required: true,
            maxlength: 6,
            class: 'code-input',
          });
          const confirm = h(
            'form',
            { id: 'enroll-totp-confirm', class: 'stack' },
            field('Code from the app', code),
            h('button', { type: 'submit', class: 'btn btn-primary' }, 'Turn on'),
          );
          confirm.addEventListener('submit', (event) => {
            event.preventDefault();
            void busy(confirm, async () => {
              const r = await api<{ recoveryCodes: string[] }>('/auth/totp/confirm', {
                method: 'POST',
                body: { code: code.value.replace(/\s/g, '') },
              });
              if (!r.ok) return status.show('error', describeProblem(r.problem));
              // Signing in again with password + code gives the full session.
              replace(
                totpBody,
                recoveryCodesPanel(r.data.recoveryCodes, () => void client.logout()),
              );
            });
          });
          replace(
            totpBody,
            h('img', {
              class: 'qr',
              alt: 'QR code for your authenticator app',
              width: 180,
              height: 180,
              src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(result.data.qrSvg)}`,
            }),
            h('p', {}, 'Scan the QR code, then enter the 6-digit code the app shows.'),
            confirm,
          );
        });
      });
      replace(totpBody, h('p', {}, 'Or use a 6-digit code from an authenticator app after your password.'), start);
    };

    passkeyStep();
    totpStep();
    return h(
      'div',
      { class: 'page', 'data-testid': 'enroll-page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Set up a second factor'),
        h(
          'p',
          { class: 'lead' },
          'This account requires a second factor. Until one is set up, this session can do nothing else: every other page answers 403 mfa_enrollment_required.',
        ),
      ),
      status.el,
      h(
        'div',
        { class: 'grid-2 align-start' },
        card('Passkey (recommended)', passkeyBody),
        card('Authenticator app', totpBody),
      ),
    );
  },
};
