import type { Passkey } from '../../../src/client/passkeys/index.js';
import { api, client, describeProblem, passkeys } from '../api.js';
import { busy, card, field, formatTime, h, relativeTime, replace, statusLine } from '../dom.js';
import type { Page } from '../page.js';
import { promptCode, withStepUp, withStepUpThrowing } from '../step-up.js';

interface TotpStatus {
  enabled: boolean;
  pending: boolean;
  recoveryCodesLeft: number;
}
interface AuditEvent {
  type: string;
  at: string;
  ip: string | null;
  device: string | null;
  sessionId: string | null;
}

const EVENT_LABELS: Record<string, [string, 'ok' | 'warning' | 'danger' | 'muted']> = {
  'user.signup': ['Account created', 'ok'],
  'login.success': ['Signed in', 'ok'],
  'login.failed': ['Failed sign-in', 'danger'],
  'login.new_device': ['Sign-in from a new device', 'warning'],
  'login.second_factor_failed': ['Wrong two-factor code', 'danger'],
  'refresh.reuse_detected': ['Stolen refresh token detected', 'danger'],
  'session.revoked': ['Session revoked', 'muted'],
  'session.revoke_others': ['Other sessions signed out', 'muted'],
  'session.logout_all': ['Signed out everywhere', 'muted'],
  'session.evicted': ['Oldest session ended (limit)', 'muted'],
  'session.reported_not_me': ['Session reported "not me"', 'danger'],
  'step_up.success': ['Identity confirmed (step-up)', 'ok'],
  'step_up.failed': ['Failed step-up', 'danger'],
  'password.changed': ['Password changed', 'warning'],
  'password.change_failed': ['Failed password change', 'danger'],
  'totp.enrollment_started': ['Two-factor setup started', 'muted'],
  'totp.enabled': ['Two-factor turned on', 'ok'],
  'totp.disabled': ['Two-factor turned off', 'warning'],
  'totp.recovery_codes_regenerated': ['New recovery codes', 'warning'],
  'totp.recovery_code_used': ['Recovery code used', 'warning'],
  'passkey.added': ['Passkey added', 'ok'],
  'passkey.removed': ['Passkey removed', 'warning'],
  'passkey.renamed': ['Passkey renamed', 'muted'],
  'passkey.used': ['Passkey used', 'ok'],
  'passkey.clone_suspected': ['Passkey counter went backwards (cloned?)', 'danger'],
  'email.verified': ['Email address confirmed', 'ok'],
  'email.change_requested': ['Email change requested', 'warning'],
  'email.changed': ['Email address changed', 'warning'],
  'password.reset': ['Password reset by mail link', 'warning'],
  'account.exported': ['Account data downloaded', 'muted'],
  'account.disabled': ['Account disabled by an administrator', 'danger'],
  'account.enabled': ['Account enabled again', 'ok'],
};

/** The secret of an otpauth:// URI, grouped in fours for typing it by hand. */
function manualKey(otpauthUri: string): string {
  try {
    return (new URL(otpauthUri).searchParams.get('secret') ?? '').replace(/(.{4})/g, '$1 ').trim();
  } catch {
    return '';
  }
}

export function recoveryCodesPanel(codes: string[], done: () => void): HTMLElement {
  const copy = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Copy');
  copy.addEventListener('click', () => {
    void navigator.clipboard?.writeText(codes.join('\n')).then(() => {
      copy.textContent = 'Copied';
    });
  });
  return h(
    'div',
    { class: 'recovery', 'data-testid': 'recovery-codes' },
    h(
      'div',
      { class: 'banner banner-warning' },
      h('strong', {}, 'Save these recovery codes now'),
      h('span', {}, 'Each works once if you lose your phone. They are stored hashed and will not be shown again.'),
    ),
    h('ol', { class: 'codes' }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
    h(
      'div',
      { class: 'actions' },
      copy,
      h('button', { type: 'button', class: 'btn btn-primary btn-small', onclick: done }, 'I have saved them'),
    ),
  );
}

function totpCard(): HTMLElement {
  const body = h('div', { class: 'stack' }, h('div', { class: 'loading' }, 'Loading…'));
  const status = statusLine();
  const head = h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Two-factor authentication'));
  const setPill = (enabled: boolean | null) => {
    head.querySelector('.pill')?.remove();
    if (enabled !== null)
      head.append(
        h(
          'span',
          { class: enabled ? 'pill pill-ok' : 'pill pill-muted', 'data-testid': 'totp-status' },
          enabled ? 'On' : 'Off',
        ),
      );
  };

  const load = async () => {
    const result = await api<TotpStatus>('/auth/totp');
    if (!result.ok) return status.show('error', describeProblem(result.problem));
    const totp = result.data;
    setPill(totp.enabled);
    if (!totp.enabled) {
      const enroll = h(
        'button',
        { id: 'totp-enroll', type: 'button', class: 'btn btn-primary' },
        totp.pending ? 'Restart setup' : 'Set up authenticator app',
      );
      enroll.addEventListener('click', () => void busy(enroll, startEnrollment));
      replace(
        body,
        h(
          'p',
          {},
          'Protect sign-in with a 6-digit code from an authenticator app (1Password, Google Authenticator, Aegis…). Setting it up asks for your password first.',
        ),
        enroll,
      );
      return;
    }
    const regenerate = h(
      'button',
      { id: 'totp-regenerate', type: 'button', class: 'btn btn-ghost' },
      'New recovery codes',
    );
    const disable = h('button', { id: 'totp-disable', type: 'button', class: 'btn btn-danger-ghost' }, 'Turn off');
    regenerate.addEventListener(
      'click',
      () =>
        void busy(regenerate, async () => {
          const code = await promptCode(
            'New recovery codes',
            'Enter a current code from your authenticator app. Replacing your recovery codes invalidates the old ones.',
          );
          if (code === null) return;
          const r = await withStepUp('Replacing your recovery codes invalidates the old ones.', () =>
            api<{ recoveryCodes: string[] }>('/auth/totp/recovery-codes', { method: 'POST', body: { code } }),
          );
          if (!r.ok) return status.show('error', describeProblem(r.problem));
          replace(
            body,
            recoveryCodesPanel(r.data.recoveryCodes, () => void load()),
          );
        }),
    );
    disable.addEventListener(
      'click',
      () =>
        void busy(disable, async () => {
          const code = await promptCode(
            'Turn off two-factor',
            'Enter a current code from your authenticator app. Turning off two-factor makes your password the only factor.',
          );
          if (code === null) return;
          const r = await withStepUp('Turning off two-factor makes your password the only factor.', () =>
            api('/auth/totp/disable', { method: 'POST', body: { code } }),
          );
          if (!r.ok) return status.show('error', describeProblem(r.problem));
          status.show('ok', 'Two-factor authentication is off.');
          await load();
        }),
    );
    replace(
      body,
      h('p', {}, 'Signing in asks for a code from your authenticator app after the password.'),
      h(
        'p',
        { class: 'muted' },
        `${totp.recoveryCodesLeft} unused recovery ${totp.recoveryCodesLeft === 1 ? 'code' : 'codes'} left.`,
      ),
      h('div', { class: 'actions' }, regenerate, disable),
    );
  };

  const startEnrollment = async () => {
    status.show(null);
    const result = await withStepUp('Setting up two-factor changes how you sign in.', () =>
      api<{ otpauthUri: string; qrSvg: string }>('/auth/totp/enroll', { method: 'POST' }),
    );
    if (!result.ok) {
      if (result.problem.code === 'totp_already_enabled') return load();
      return status.show('error', describeProblem(result.problem));
    }
    const { otpauthUri, qrSvg } = result.data;
    const code = h('input', {
      name: 'code',
      type: 'text',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      required: true,
      maxlength: 6,
      placeholder: '123456',
      class: 'code-input',
    });
    const confirmStatus = statusLine();
    const form = h(
      'form',
      { id: 'totp-confirm-form', class: 'stack' },
      field('Code from the app', code),
      confirmStatus.el,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Turn on'),
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => void load() }, 'Cancel'),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(form, async () => {
        const r = await api<{ enabled: true; recoveryCodes: string[] }>('/auth/totp/confirm', {
          method: 'POST',
          body: { code: code.value.replace(/\s/g, '') },
        });
        if (!r.ok) {
          confirmStatus.show('error', describeProblem(r.problem));
          return code.select();
        }
        setPill(true);
        replace(
          body,
          recoveryCodesPanel(r.data.recoveryCodes, () => void load()),
        );
      });
    });
    // The SVG comes from our own server; as an <img> data: URL it cannot run script.
    const qr = h('img', {
      class: 'qr',
      alt: 'QR code for your authenticator app',
      width: 180,
      height: 180,
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg)}`,
      'data-testid': 'totp-qr',
    });
    replace(
      body,
      h(
        'div',
        { class: 'enroll' },
        qr,
        h(
          'div',
          { class: 'stack' },
          h('p', {}, '1. Scan the QR code with your authenticator app.'),
          h(
            'p',
            { class: 'muted small' },
            'Cannot scan? Enter this key: ',
            h(
              'code',
              { class: 'secret', 'data-testid': 'totp-secret', 'data-otpauth': otpauthUri },
              manualKey(otpauthUri),
            ),
          ),
          h('p', {}, '2. Enter the 6-digit code it shows.'),
          form,
        ),
      ),
    );
    code.focus();
  };

  void load();
  return h('section', { class: 'card' }, head, status.el, body);
}

/** A passkey name field (optional; the server names it "Passkey" otherwise). */
export function passkeyNameInput(): HTMLInputElement {
  return h('input', { name: 'passkey-name', type: 'text', maxlength: 64, placeholder: 'e.g. MacBook Touch ID' });
}

/** Adds a passkey (asking for a step-up first when the server wants one); resolves it, or null when cancelled. */
export async function addPasskey(name: string): Promise<Passkey> {
  return withStepUpThrowing('Adding a passkey adds a way to sign in to your account.', () =>
    passkeys.register(name.trim() ? { name: name.trim() } : {}),
  );
}

function passkeysCard(): HTMLElement {
  const status = statusLine();
  const list = h(
    'div',
    { class: 'session-list', 'data-testid': 'passkeys' },
    h('div', { class: 'loading' }, 'Loading…'),
  );
  const name = passkeyNameInput();
  const add = h('button', { id: 'passkey-add', type: 'submit', class: 'btn btn-primary' }, 'Add a passkey');
  const form = h('form', { id: 'passkey-form', class: 'inline-form' }, name, add);

  const load = async () => {
    try {
      const mine = await passkeys.list();
      replace(list, ...(mine.length ? mine.map(row) : [h('p', { class: 'empty' }, 'No passkeys yet.')]));
    } catch (error) {
      status.show('error', describeProblem(error));
    }
  };
  const row = (p: Passkey): HTMLElement => {
    const rename = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-action': 'rename' }, 'Rename');
    const remove = h(
      'button',
      { type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-action': 'delete' },
      'Delete',
    );
    rename.addEventListener('click', () => {
      const next = prompt('New name for this passkey', p.name);
      if (next === null || !next.trim()) return;
      void busy(rename, async () => {
        try {
          await passkeys.rename(p.id, next.trim());
          await load();
        } catch (error) {
          status.show('error', describeProblem(error));
        }
      });
    });
    remove.addEventListener('click', () => {
      status.show(null);
      void busy(remove, async () => {
        const r = await withStepUp(`Deleting “${p.name}” removes a way to sign in.`, () =>
          api(`/auth/passkeys/${encodeURIComponent(p.id)}`, { method: 'DELETE' }),
        );
        if (!r.ok) return status.show('error', describeProblem(r.problem));
        status.show('ok', `Deleted “${p.name}”.`);
        await load();
      });
    });
    return h(
      'div',
      { class: 'session-row', 'data-testid': 'passkey-row', 'data-passkey-id': p.id },
      h('div', { class: 'device-icon device-desktop', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'session-main' },
        h(
          'div',
          { class: 'session-title' },
          h('strong', { 'data-testid': 'passkey-name' }, p.name),
          p.backedUp ? h('span', { class: 'pill pill-muted' }, 'Synced') : null,
        ),
        h(
          'div',
          { class: 'session-meta' },
          h('span', {}, `Added ${formatTime(p.createdAt)}`),
          h('span', {}, p.lastUsedAt ? `Last used ${relativeTime(p.lastUsedAt)}` : 'Never used'),
        ),
      ),
      h('div', { class: 'actions' }, rename, remove),
    );
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.show(null);
    void busy(form, async () => {
      try {
        const added = await addPasskey(name.value);
        name.value = '';
        status.show('ok', `Added “${added.name}”. You can now sign in with it from the login page.`);
        await load();
      } catch (error) {
        status.show('error', describeProblem(error));
      }
    });
  });
  void load();
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Passkeys')),
    h(
      'p',
      {},
      'Sign in with your fingerprint, face or device PIN instead of a password — and confirm risky actions with it. Adding one asks for your password first.',
    ),
    passkeys.supported() ? form : h('p', { class: 'muted' }, 'This browser does not support passkeys.'),
    status.el,
    list,
  );
}

function passwordCard(): HTMLElement {
  const status = statusLine();
  const current = h('input', {
    name: 'currentPassword',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const next = h('input', {
    name: 'newPassword',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
  });
  const form = h(
    'form',
    { id: 'password-form', class: 'stack' },
    field('Current password', current),
    field('New password', next, 'Other sessions are signed out; this one stays.'),
    status.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.show(null);
    void busy(form, async () => {
      const r = await api<{ revoked: number }>('/auth/password', {
        method: 'POST',
        body: { currentPassword: current.value, newPassword: next.value },
      });
      if (!r.ok) return status.show('error', describeProblem(r.problem));
      form.reset();
      status.show(
        'ok',
        `Password changed. ${r.data.revoked === 1 ? '1 other session was' : `${r.data.revoked} other sessions were`} signed out.`,
      );
    });
  });
  return card('Password', form);
}

/** The address: its state, and a change (step-up; a link to the new address, a notice to the old one). */
function emailCard(): HTMLElement {
  const status = statusLine();
  const state = client.state();
  const user = state.status === 'authenticated' ? state.user : null;
  const next = h('input', {
    name: 'email',
    type: 'email',
    autocomplete: 'email',
    required: true,
    placeholder: 'new@example.com',
  });
  const form = h(
    'form',
    { id: 'email-change-form', class: 'stack' },
    h(
      'p',
      {},
      'Now: ',
      h('strong', { 'data-testid': 'current-email' }, user?.email ?? ''),
      ' ',
      h(
        'span',
        { class: user?.emailVerified ? 'pill pill-ok' : 'pill pill-warning' },
        user?.emailVerified ? 'confirmed' : 'not confirmed',
      ),
    ),
    field('New address', next, 'We mail a confirmation link to the new address and a notice to the current one.'),
    status.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change address')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    status.show(null);
    void busy(form, async () => {
      const address = next.value.trim();
      const r = await withStepUp('Changing your address changes where reset links go.', () =>
        api('/auth/email/change', { method: 'POST', body: { email: address } }),
      );
      if (!r.ok) return status.show('error', describeProblem(r.problem));
      form.reset();
      status.show('ok', `Open the link we mailed to ${address} to confirm it. Until then nothing changes.`);
    });
  });
  return card('Email address', form);
}

/** Export (a JSON download) and deletion (step-up, confirmed twice). */
function dataCard(navigate: (path: string) => void): HTMLElement {
  const status = statusLine();
  const download = h('button', { id: 'export-account', type: 'button', class: 'btn btn-ghost' }, 'Download my data');
  const remove = h(
    'button',
    { id: 'delete-account', type: 'button', class: 'btn btn-danger-ghost' },
    'Delete my account',
  );
  download.addEventListener(
    'click',
    () =>
      void busy(download, async () => {
        const response = await client.fetch('/auth/account/export');
        if (!response.ok) return status.show('error', `The export failed (HTTP ${response.status}).`);
        const url = URL.createObjectURL(await response.blob());
        const link = h('a', { href: url, download: 'account-export.json' });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        status.show('ok', 'Your data is downloading (account-export.json).');
      }),
  );
  remove.addEventListener(
    'click',
    () =>
      void busy(remove, async () => {
        if (!window.confirm('Delete your account and everything of it? This cannot be undone.')) return;
        const r = await withStepUp('Deleting your account cannot be undone.', () =>
          api('/auth/account', { method: 'DELETE' }),
        );
        if (!r.ok) return status.show('error', describeProblem(r.problem));
        await client.me().catch(() => undefined);
        navigate('/login');
      }),
  );
  return card(
    'Your data',
    h(
      'p',
      {},
      'Download everything this demo keeps about you, or delete the account: every session ends on every device.',
    ),
    status.el,
    h('div', { class: 'actions' }, download, remove),
  );
}

function eventsCard(): HTMLElement {
  const list = h('ol', { class: 'events', 'data-testid': 'events' });
  const status = statusLine();
  const more = h('button', { type: 'button', class: 'btn btn-ghost btn-small', hidden: true }, 'Older events');
  const refresh = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Refresh');
  let cursor: string | null = null;
  const load = async (append: boolean) => {
    const query = new URLSearchParams({ limit: '12' });
    if (append && cursor) query.set('before', cursor);
    const r = await api<{ events: AuditEvent[]; nextCursor?: string | null }>(`/auth/events?${query}`);
    if (!r.ok) return status.show('error', describeProblem(r.problem));
    cursor = r.data.nextCursor ?? null;
    more.hidden = !cursor;
    const items = r.data.events.map((e) => {
      const [label, tone] = EVENT_LABELS[e.type] ?? [e.type, 'muted'];
      return h(
        'li',
        { class: 'event', 'data-testid': 'event', 'data-type': e.type },
        h('span', { class: `dot dot-${tone}`, 'aria-hidden': 'true' }),
        h(
          'div',
          { class: 'event-main' },
          h('strong', {}, label),
          h('span', { class: 'muted small' }, [e.device, e.ip].filter(Boolean).join(' · ') || '—'),
        ),
        h('time', { class: 'muted small', datetime: e.at, title: formatTime(e.at) }, relativeTime(e.at)),
      );
    });
    if (append) list.append(...items);
    else replace(list, ...items);
    if (!list.children.length) replace(list, h('li', { class: 'empty' }, 'No events yet.'));
  };
  more.addEventListener('click', () => void busy(more, () => load(true)));
  refresh.addEventListener('click', () => void busy(refresh, () => load(false)));
  void load(false);
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Recent activity'), refresh),
    status.el,
    list,
    h('div', { class: 'actions' }, more),
  );
}

export const securityPage: Page = {
  title: 'Security',
  requiresAuth: true,
  render({ navigate }) {
    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Security settings'),
        h(
          'p',
          { class: 'lead' },
          'Sensitive changes ask you to confirm your password first (step-up). Every change lands in the audit trail.',
        ),
      ),
      h(
        'div',
        { class: 'grid-2 align-start' },
        h('div', { class: 'stack-lg' }, passkeysCard(), totpCard(), passwordCard(), emailCard(), dataCard(navigate)),
        eventsCard(),
      ),
    );
  },
};
