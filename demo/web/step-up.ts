import { TokenwardClientError } from '../../src/client/index.js';
import { client, describeProblem, passkeys, type Result } from './api.js';
import { busy, h, statusLine } from './dom.js';

/**
 * Asks for the password (or an authenticator code) in a modal and calls `client.stepUp`.
 * Resolves true once the server granted a fresh step-up, false when the user cancels.
 */
export function promptStepUp(reason: string): Promise<boolean> {
  return new Promise((resolve) => {
    const status = statusLine();
    let useCode = false;
    const secret = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const label = h('span', { class: 'field-label' }, 'Password');
    const toggle = h('button', { type: 'button', class: 'link-button' }, 'Use an authenticator code instead');
    const usePasskey = passkeys.supported()
      ? h('button', { type: 'button', id: 'step-up-passkey', class: 'btn btn-ghost' }, 'Use a passkey')
      : null;
    const form = h(
      'form',
      { id: 'step-up-form', class: 'stack' },
      h('h2', { class: 'card-title' }, 'Confirm it is you'),
      h(
        'p',
        { class: 'muted' },
        reason,
        ' Use your password, an authenticator code or a passkey; the confirmation is valid for one action within 5 minutes.',
      ),
      h('label', { class: 'field' }, label, secret),
      toggle,
      status.el,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Confirm'),
        usePasskey,
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-action': 'cancel' }, 'Cancel'),
      ),
    );
    usePasskey?.addEventListener('click', () => {
      status.show(null);
      void busy(form, async () => {
        try {
          await passkeys.stepUp();
          close(true);
        } catch (error) {
          const none = error instanceof TokenwardClientError && error.code === 'not_found';
          status.show('error', none ? 'This account has no passkey yet.' : describeProblem(error));
        }
      });
    });
    const overlay = h(
      'div',
      { class: 'overlay', role: 'dialog', 'aria-modal': 'true' },
      h('div', { class: 'card dialog' }, form),
    );
    const close = (granted: boolean) => {
      overlay.remove();
      document.removeEventListener('keydown', onKey);
      resolve(granted);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') close(false);
    };
    toggle.addEventListener('click', () => {
      useCode = !useCode;
      secret.value = '';
      secret.name = useCode ? 'totp' : 'password';
      secret.type = useCode ? 'text' : 'password';
      secret.inputMode = useCode ? 'numeric' : 'text';
      secret.autocomplete = useCode ? 'one-time-code' : 'current-password';
      label.textContent = useCode ? 'Authenticator code' : 'Password';
      toggle.textContent = useCode ? 'Use your password instead' : 'Use an authenticator code instead';
      secret.focus();
    });
    form.querySelector('[data-action=cancel]')?.addEventListener('click', () => close(false));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(form, async () => {
        try {
          await client.stepUp(useCode ? { totp: secret.value.replace(/\s/g, '') } : { password: secret.value });
          close(true);
        } catch (error) {
          const wrong = error instanceof TokenwardClientError && error.code === 'invalid_credentials';
          status.show('error', wrong ? `That ${useCode ? 'code' : 'password'} is not right.` : describeProblem(error));
          secret.select();
        }
      });
    });
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
    secret.focus();
  });
}

/**
 * Like {@link withStepUp} for SDK calls that throw (passkey registration): on `step_up_required`
 * asks the user to confirm and runs `action` once more; cancelling rethrows the refusal.
 */
export async function withStepUpThrowing<T>(reason: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof TokenwardClientError) || error.code !== 'step_up_required') throw error;
    if (!(await promptStepUp(reason))) throw error;
    return action();
  }
}

/**
 * Runs a step-up guarded request; on 401 `step_up_required` asks the user to confirm and
 * retries exactly once (the grant is single use). Cancelling returns the original refusal.
 */
export async function withStepUp<T>(reason: string, request: () => Promise<Result<T>>): Promise<Result<T>> {
  const first = await request();
  if (first.ok || first.problem.code !== 'step_up_required') return first;
  if (!(await promptStepUp(reason))) return first;
  return request();
}

/**
 * Asks for a current authenticator code in a modal (changing the second factor needs the second
 * factor itself, besides the step-up). Resolves with the code, or null when the user cancels.
 */
export function promptCode(title: string, reason: string): Promise<string | null> {
  return new Promise((resolve) => {
    const code = h('input', {
      name: 'code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      pattern: '[0-9 ]{6,7}',
      required: true,
    });
    const form = h(
      'form',
      { id: 'totp-code-form', class: 'stack' },
      h('h2', { class: 'card-title' }, title),
      h('p', { class: 'muted' }, reason),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'Authenticator code'), code),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Continue'),
        h('button', { type: 'button', class: 'btn btn-ghost', 'data-action': 'cancel' }, 'Cancel'),
      ),
    );
    const overlay = h(
      'div',
      { class: 'overlay', role: 'dialog', 'aria-modal': 'true' },
      h('div', { class: 'card dialog' }, form),
    );
    const close = (value: string | null) => {
      overlay.remove();
      document.removeEventListener('keydown', onKey);
      resolve(value);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') close(null);
    };
    form.querySelector('[data-action=cancel]')?.addEventListener('click', () => close(null));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      close(code.value.replace(/\s/g, ''));
    });
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
    code.focus();
  });
}
