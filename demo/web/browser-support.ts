/**
 * The old-browser banner and the lab's "protections for this browser" card, both from
 * `client.browserSupport()` (the server's verdict merged with what the page has).
 */
import type { BrowserSupport } from '../../src/client/index.js';
import { client } from './api.js';
import { h, replace } from './dom.js';

/** What each reason means for the person in front of the browser. */
const REASONS: Record<string, string> = {
  httponly_ignored: 'This browser lets page scripts read the login cookies (no HttpOnly).',
  samesite_ignored: 'This browser ignores SameSite cookies, so other sites can send requests with your login.',
  retired_browser: 'This browser is retired by its vendor and no longer gets security fixes.',
  cookie_prefixes_ignored:
    'This browser does not enforce __Host- cookies, so a neighbouring subdomain could plant cookies.',
  no_fetch_metadata: 'This browser predates Fetch Metadata; requests are checked by their Origin or a CSRF token.',
  fetch_metadata_stripped:
    'Something between this browser and the server (a proxy or an extension) removes security headers; requests are checked with a CSRF token instead.',
  unknown_browser:
    'This browser is not recognised and sends no Fetch Metadata; requests are checked with a CSRF token.',
  cookies_disabled: 'Cookies are disabled: you cannot stay signed in.',
  no_crypto_subtle: 'This page is not in a secure context (no Web Crypto).',
  no_web_locks: 'This browser has no Web Locks: tabs coordinate session refreshes less efficiently.',
  no_broadcast_channel: 'This browser has no BroadcastChannel: other tabs notice a logout only when shown again.',
};

/** A sentence for a reason code (the code itself when unknown). */
export function explainBrowser(reason: string | null): string {
  return reason === null ? 'Every protection is active.' : (REASONS[reason] ?? reason);
}

let dismissed = false;

/**
 * Fills `slot` with a dismissible banner when the browser is degraded or unsupported (asks the
 * server once, even for a visitor who is not signed in). The dismissal lasts for this page load.
 */
export function mountBrowserBanner(slot: HTMLElement): void {
  const show = (support: BrowserSupport): void => {
    if (dismissed || support.status === 'supported') {
      replace(slot);
      return;
    }
    const unsupported = support.status === 'unsupported';
    replace(
      slot,
      h(
        'div',
        {
          class: `banner ${unsupported ? 'banner-danger' : 'banner-warning'} browser-banner`,
          role: unsupported ? 'alert' : 'status',
          'data-testid': 'browser-banner',
          'data-status': support.status,
          'data-reason': support.reason ?? '',
        },
        h(
          'div',
          { class: 'browser-banner-text' },
          h(
            'strong',
            {},
            unsupported ? 'This browser cannot keep your login safe.' : 'Your browser is missing a protection.',
          ),
          h('span', {}, explainBrowser(support.reason)),
          h(
            'span',
            { class: 'small' },
            unsupported
              ? 'Please switch to a current version of Chrome, Edge, Firefox or Safari. '
              : 'You can keep using this site: a fallback protects you. Updating your browser (or removing what strips its headers) restores every layer. ',
            h('a', { href: '/lab' }, 'See which protections are active'),
            '.',
          ),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small btn-ghost',
            'data-testid': 'browser-banner-dismiss',
            'aria-label': 'Dismiss the browser warning',
            onclick: () => {
              dismissed = true;
              replace(slot);
            },
          },
          'Dismiss',
        ),
      ),
    );
  };
  client.onChange((state) => {
    if ('browser' in state && state.browser) show(state.browser);
  });
  void client.browserSupport().then(show, () => undefined);
}

type ProtectionState = 'active' | 'missing' | 'standby' | 'unknown';
type Protection = { name: string; state: ProtectionState; note: string };

const BADGES: Record<ProtectionState, [string, string]> = {
  active: ['badge-pass', 'Active'],
  missing: ['badge-fail', 'Missing'],
  standby: ['badge-idle', 'Standby'],
  unknown: ['badge-idle', 'Unknown'],
};

/** Which of Tokenward's protections hold for this browser, from its verdict. */
export function protectionsFor(support: BrowserSupport): Protection[] {
  const reason = support.server?.reason ?? '';
  // What the User-Agent tells: unknown when the server could not say, or does not know the browser.
  const known = support.server !== null && reason !== 'unknown_browser';
  const cookie = (lacking: string[]): ProtectionState =>
    !known ? 'unknown' : lacking.includes(reason) ? 'missing' : 'active';
  const fetchMetadata = support.server?.status === 'supported';
  const csrf: ProtectionState = support.server === null ? 'unknown' : fetchMetadata ? 'standby' : 'active';
  return [
    {
      name: 'HttpOnly cookies',
      state: cookie(['httponly_ignored']),
      note: 'Tokens are in cookies page scripts cannot read.',
    },
    {
      name: 'SameSite cookies',
      state: cookie(['httponly_ignored', 'samesite_ignored']),
      note: 'Other sites cannot send requests with your login.',
    },
    {
      name: '__Host- cookie prefix',
      state: cookie(['httponly_ignored', 'samesite_ignored', 'retired_browser', 'cookie_prefixes_ignored']),
      note: 'A neighbouring subdomain cannot plant session cookies.',
    },
    {
      name: 'Fetch Metadata (CSRF layer 1)',
      state: support.server === null ? 'unknown' : fetchMetadata ? 'active' : 'missing',
      note: fetchMetadata
        ? 'The browser tells the server where each request comes from (Sec-Fetch-Site).'
        : 'Not on these requests: state-changing requests are checked by the next layers.',
    },
    {
      name: 'Origin check and signed CSRF token (layers 2 and 3)',
      state: support.page.cookies ? csrf : 'missing',
      note: fetchMetadata
        ? 'Standby: used when the headers above are missing.'
        : 'In use: the server checks Origin when sent, else the signed __Host-tw_csrf token the SDK echoes in X-CSRF-Token.',
    },
    {
      name: 'One refresh for all tabs',
      state: support.page.webLocks && support.page.broadcastChannel ? 'active' : 'missing',
      note: 'Web Locks and BroadcastChannel: one refresh and one logout for every tab.',
    },
    {
      name: 'Web Crypto',
      state: support.page.cryptoSubtle ? 'active' : 'missing',
      note: 'A secure context (needed by passkeys and DPoP).',
    },
  ];
}

/** The lab's card: the verdict and one row per protection. */
export function browserProtectionsCard(): HTMLElement {
  const body = h('div', { class: 'muted' }, 'Asking the server about this browser…');
  const card = h(
    'section',
    { class: 'card', 'data-testid': 'browser-protections' },
    h('h2', { class: 'card-title' }, 'Protections for this browser'),
    body,
  );
  void client.browserSupport().then((support) => {
    const label = { supported: 'Supported', degraded: 'Degraded', unsupported: 'Unsupported' }[support.status];
    const pill = { supported: 'pill-ok', degraded: 'pill-warning', unsupported: 'pill-danger' }[support.status];
    replace(
      body,
      h(
        'p',
        {},
        h('span', { class: `pill ${pill}`, 'data-testid': 'browser-status' }, label),
        ' ',
        explainBrowser(support.reason),
      ),
      h(
        'ul',
        { class: 'protections' },
        ...protectionsFor(support).map((p) =>
          h(
            'li',
            { class: 'protection', 'data-testid': 'protection', 'data-name': p.name, 'data-state': p.state },
            h('span', { class: `badge ${BADGES[p.state][0]}` }, BADGES[p.state][1]),
            h('div', { class: 'lab-main' }, h('strong', {}, p.name), h('span', { class: 'small muted' }, p.note)),
          ),
        ),
      ),
    );
  });
  return card;
}
