import type { DeviceSession } from '../../../src/client/index.js';
import { describeProblem } from '../api.js';
import { busy, card, formatTime, h, relativeTime, replace, statusLine } from '../dom.js';
import type { Page } from '../page.js';

export const sessionsPage: Page = {
  title: 'Sessions',
  requiresAuth: true,
  render({ client }) {
    const status = statusLine();
    const banner = h('div', { class: 'banner-slot' });
    const rows = h('div', { class: 'session-list' }, h('div', { class: 'loading' }, 'Loading sessions…'));
    const revokeOthers = h(
      'button',
      { id: 'revoke-others', type: 'button', class: 'btn btn-danger-ghost' },
      'Sign out all other sessions',
    );

    const load = async () => {
      try {
        show(await client.sessions());
      } catch (error) {
        status.show('error', describeProblem(error));
      }
    };
    const show = (sessions: DeviceSession[]) => {
      const fresh = sessions.filter((s) => s.newDevice);
      replace(
        banner,
        fresh.length
          ? h(
              'div',
              { class: 'banner banner-warning', 'data-testid': 'new-device-banner' },
              h(
                'strong',
                {},
                fresh.length === 1
                  ? 'New sign-in from a device not seen before'
                  : `${fresh.length} sign-ins from devices not seen before`,
              ),
              h(
                'span',
                {},
                fresh
                  .map(
                    (s) =>
                      `${s.device.label} (${s.ip}, ${relativeTime(s.createdAt)})${s.current ? ' — this device' : ''}`,
                  )
                  .join(' · '),
              ),
              h('span', { class: 'small' }, 'Not you? Revoke the session below and change your password.'),
            )
          : null,
      );
      revokeOthers.disabled = sessions.every((s) => s.current);
      replace(rows, ...sessions.map(sessionRow));
    };
    const sessionRow = (s: DeviceSession): HTMLElement => {
      const revoke = h(
        'button',
        { type: 'button', class: 'btn btn-small btn-danger-ghost', 'data-action': 'revoke', 'data-session-id': s.id },
        s.current ? 'Sign out' : 'Revoke',
      );
      revoke.addEventListener('click', () => {
        status.show(null);
        void busy(revoke, async () => {
          try {
            await client.revokeSession(s.id);
            if (!s.current) {
              status.show('ok', `Revoked ${s.device.label}.`);
              await load();
            }
          } catch (error) {
            status.show('error', describeProblem(error));
          }
        });
      });
      return h(
        'div',
        {
          class: s.current ? 'session-row current' : 'session-row',
          'data-testid': 'session-row',
          'data-session-id': s.id,
        },
        h('div', { class: `device-icon ${deviceKind(s)}`, 'aria-hidden': 'true' }),
        h(
          'div',
          { class: 'session-main' },
          h(
            'div',
            { class: 'session-title' },
            h('strong', {}, s.device.label),
            s.current ? h('span', { class: 'pill pill-ok', 'data-testid': 'current-session' }, 'This device') : null,
            s.newDevice ? h('span', { class: 'pill pill-warning' }, 'New device') : null,
          ),
          h(
            'div',
            { class: 'session-meta' },
            h('span', {}, 'IP ', h('code', {}, s.ip)),
            h('span', { title: s.createdAt }, `Signed in ${formatTime(s.createdAt)}`),
            h('span', { title: s.lastActiveAt }, `Last active ${relativeTime(s.lastActiveAt)}`),
          ),
        ),
        revoke,
      );
    };
    revokeOthers.addEventListener('click', () => {
      status.show(null);
      void busy(revokeOthers, async () => {
        try {
          const n = await client.revokeOthers();
          status.show('ok', n === 1 ? 'Signed out 1 other session.' : `Signed out ${n} other sessions.`);
          await load();
        } catch (error) {
          status.show('error', describeProblem(error));
        }
      });
    });
    void load();
    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Sessions'),
        h(
          'p',
          { class: 'lead' },
          'Every device signed in to your account, most recently active first. Revoking one ends it within a second, on every server.',
        ),
      ),
      banner,
      card(
        null,
        h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Active sessions'), revokeOthers),
        status.el,
        rows,
      ),
    );
  },
};

function deviceKind(s: DeviceSession): string {
  const os = (s.device.os ?? '').toLowerCase();
  return /android|ios|iphone|ipad/.test(os) ? 'device-phone' : 'device-desktop';
}
