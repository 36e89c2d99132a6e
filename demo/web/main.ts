/**
 * The Tokenward demo SPA: plain DOM, client-side routing with the History API, the browser SDK
 * from src/client for every request. Nothing secret is ever kept in storage: the tokens are
 * HttpOnly cookies that this code cannot read.
 */
import type { AuthState } from '../../src/client/index.js';
import { api, client, describeProblem } from './api.js';
import { mountBrowserBanner } from './browser-support.js';
import { busy, h, replace, statusLine } from './dom.js';
import type { Page, PageContext } from './page.js';
import { enrollPage } from './pages/enroll.js';
import { forgotPage } from './pages/forgot.js';
import { labPage } from './pages/lab.js';
import { confirmEmailChangePage, magicLinkPage, notMePage, resetPasswordPage, verifyEmailPage } from './pages/links.js';
import { loginPage, signupPage } from './pages/login.js';
import { notesPage } from './pages/notes.js';
import { outboxPage } from './pages/outbox.js';
import { profilePage } from './pages/profile.js';
import { securityPage } from './pages/security.js';
import { sessionsPage } from './pages/sessions.js';
import { transferPage } from './pages/transfer.js';

const PAGES: Record<string, Page> = {
  '/': loginPage,
  '/profile': profilePage,
  '/notes': notesPage,
  '/sessions': sessionsPage,
  '/security': securityPage,
  '/transfer': transferPage,
  '/lab': labPage,
  '/login': loginPage,
  '/signup': signupPage,
  '/forgot-password': forgotPage,
  '/account/verify-email': verifyEmailPage,
  '/account/reset-password': resetPasswordPage,
  '/account/magic-link': magicLinkPage,
  '/account/confirm-email-change': confirmEmailChangePage,
  '/account/not-me': notMePage,
  '/outbox': outboxPage,
};
const NAV: Array<[string, string]> = [
  ['/profile', 'Profile'],
  ['/notes', 'Notes'],
  ['/sessions', 'Sessions'],
  ['/security', 'Security'],
  ['/transfer', 'Transfer'],
  ['/lab', 'Lab'],
  ['/outbox', 'Outbox'],
];
/** Pages anyone sees in the navigation. */
const PUBLIC_NAV = new Set(['/lab', '/outbox']);

const view = h('main', { id: 'view', class: 'container' });
// Old or unusual browsers: a dismissible banner above every page (see browser-support.ts).
const browserBanner = h('div', { class: 'browser-banner-slot' });
/** "Confirm your address" while the signed-in user's email is not verified. */
const verifyBanner = h('div', { class: 'container banner-slot' });
const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
const account = h('div', { class: 'account' });
let renderedFor = '';
let renderedPath = '';

function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path !== location.pathname + location.search) {
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
  }
  render(true);
}

const context: PageContext = { navigate, client };

function identity(state: AuthState): string {
  if (state.status !== 'authenticated') return state.status;
  return `user:${state.user.id}${state.session.restriction ? `:${state.session.restriction}` : ''}`;
}

/** A session that must enrol a second factor first (the server's requireMfa). */
function restricted(state: AuthState): boolean {
  return state.status === 'authenticated' && state.session.restriction === 'mfa_enrollment';
}

function renderHeader(state: AuthState): void {
  const authed = state.status === 'authenticated';
  replace(
    nav,
    ...(authed && !restricted(state) ? NAV : NAV.filter(([path]) => PUBLIC_NAV.has(path))).map(([path, label]) =>
      h(
        'a',
        {
          href: path,
          class: location.pathname === path ? 'nav-link active' : 'nav-link',
          'aria-current': location.pathname === path ? 'page' : null,
        },
        label,
      ),
    ),
  );
  if (state.status === 'authenticated') {
    const initial = (state.user.name || state.user.email).trim().charAt(0).toUpperCase();
    replace(
      account,
      h(
        'span',
        { class: 'account-email', title: `Signed in as ${state.user.email}` },
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initial),
        h('span', { 'data-testid': 'user-email' }, state.user.email),
      ),
      h(
        'button',
        { id: 'logout', type: 'button', class: 'btn btn-small btn-ghost', onclick: () => void signOut('logout') },
        'Log out',
      ),
      h(
        'button',
        {
          id: 'logout-all',
          type: 'button',
          class: 'btn btn-small btn-danger-ghost',
          title: 'Log out everywhere: end every session of this account, on every device',
          onclick: () => void signOut('logoutAll'),
        },
        'Log out all',
      ),
    );
  } else if (state.status === 'anonymous') {
    replace(
      account,
      h('span', { class: 'pill pill-muted', 'data-testid': 'logged-out' }, 'Signed out'),
      h('a', { href: '/login', class: 'btn btn-small btn-ghost' }, 'Log in'),
      h('a', { href: '/signup', class: 'btn btn-small btn-primary' }, 'Sign up'),
    );
  } else replace(account);
}

function renderVerifyBanner(state: AuthState): void {
  if (state.status !== 'authenticated' || state.user.emailVerified || location.pathname.startsWith('/account/')) {
    replace(verifyBanner);
    return;
  }
  const status = statusLine();
  const resend = h(
    'button',
    { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'resend-verification' },
    'Send the link again',
  );
  resend.addEventListener(
    'click',
    () =>
      void busy(resend, async () => {
        const r = await api('/auth/email/verify/request', { method: 'POST' });
        status.show(
          r.ok ? 'ok' : 'error',
          r.ok ? 'Sent. Check your inbox (in this demo: the Outbox).' : describeProblem(r.problem),
        );
      }),
  );
  replace(
    verifyBanner,
    h(
      'div',
      { class: 'banner banner-warning', 'data-testid': 'verify-banner' },
      h('strong', {}, 'Confirm your email address'),
      h('span', {}, `We mailed a link to ${state.user.email}. Until you open it, the address is not proven.`),
      resend,
      status.el,
    ),
  );
}

async function signOut(kind: 'logout' | 'logoutAll'): Promise<void> {
  try {
    await (kind === 'logout' ? client.logout() : client.logoutAll());
  } catch {
    // A failed logout (e.g. already signed out elsewhere) still ends this tab's view of the session.
    await client.me();
  }
}

/** Renders the current path; `force` re-renders even when the signed-in user did not change. */
function render(force = false): void {
  const state = client.state();
  if (state.status === 'unknown') return;
  let path = location.pathname;
  const authed = state.status === 'authenticated';
  if (authed && (path === '/' || path === '/login' || path === '/signup')) {
    history.replaceState(null, '', '/profile');
    path = '/profile';
  }
  renderHeader(state);
  renderVerifyBanner(state);
  const who = identity(state);
  if (!force && who === renderedFor && path === renderedPath) return;
  // The lab keeps its results on screen when one of its own attacks signs the user out.
  if (!force && path === '/lab' && renderedPath === '/lab') {
    renderedFor = who;
    return;
  }
  renderedFor = who;
  renderedPath = path;
  const page = PAGES[path];
  let content: HTMLElement;
  // Every page but the enrolment one would answer 403 mfa_enrollment_required.
  if (restricted(state) && path !== '/lab') content = enrollPage.render(context);
  else if (!page) content = notFound();
  else if (page.requiresAuth && !authed)
    content = loginPage.render(context, { notice: `Log in to open ${page.title}.` });
  else content = page.render(context);
  replace(view, content);
  const title = restricted(state) && path !== '/lab' ? enrollPage.title : page?.title;
  document.title = `${title && (authed || !page?.requiresAuth) ? title : 'Log in'} · Tokenward demo`;
  window.scrollTo(0, 0);
}

function notFound(): HTMLElement {
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', {}, 'Not found'),
    h('p', {}, 'There is no page here. ', h('a', { href: '/' }, 'Go home'), '.'),
  );
}

// Same-origin links route on the client; modified clicks keep their browser meaning.
document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest?.('a');
  if (
    !link ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  const url = new URL(link.href, location.href);
  if (
    url.origin !== location.origin ||
    link.target ||
    link.hasAttribute('download') ||
    url.pathname.startsWith('/auth/')
  )
    return;
  event.preventDefault();
  // The query too: a mail link in the Outbox carries its token there.
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render(true));

// Every tab follows the same auth state: a logout (or revocation) in one tab signs all out.
client.onChange(() => render());

const root = document.getElementById('app') ?? document.body;
replace(
  root,
  h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'topbar-inner' },
      h(
        'a',
        { href: '/', class: 'brand' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        'Tokenward',
        h('span', { class: 'brand-tag' }, 'demo'),
      ),
      nav,
      account,
    ),
  ),
  browserBanner,
  verifyBanner,
  view,
  h(
    'footer',
    { class: 'footer' },
    'Tokens live only in HttpOnly cookies; this page cannot read them. ',
    h('a', { href: '/lab' }, 'Try it in the Security lab'),
    '.',
  ),
);
replace(view, h('div', { class: 'loading' }, 'Loading…'));
mountBrowserBanner(browserBanner);
client.me().then(
  () => render(true),
  () => {
    replace(
      view,
      h(
        'section',
        { class: 'card narrow' },
        h('h1', {}, 'The server is unreachable'),
        h('p', {}, 'Reload the page to try again.'),
      ),
    );
  },
);
