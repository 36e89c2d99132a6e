import { client } from '../api.js';
import { browserProtectionsCard } from '../browser-support.js';
import { h, replace } from '../dom.js';
import type { Page } from '../page.js';
import {
  type Check,
  type CheckResult,
  CSP_CHECKS,
  csrfChecks,
  SESSION_END_GROUP,
  sessionEndChecks,
  TOKEN_CHECKS,
} from './lab-checks.js';

type Outcome = { check: Omit<Check, 'run'>; result: CheckResult };

async function runOne(check: Check): Promise<Outcome> {
  try {
    return { check, result: await check.run() };
  } catch (error) {
    return { check, result: { pass: false, observed: `The check crashed: ${(error as Error).message}` } };
  }
}

function resultRow({ check, result }: Outcome): HTMLElement {
  const status = result.pass ? 'pass' : 'fail';
  return h(
    'li',
    { class: `lab-row lab-${status}`, 'data-testid': 'lab-result', 'data-status': status, 'data-check': check.id },
    h('span', { class: `badge badge-${status}` }, result.pass ? 'Blocked' : 'FAILED'),
    h(
      'div',
      { class: 'lab-main' },
      h('strong', {}, check.title),
      h('span', { class: 'small' }, h('span', { class: 'muted' }, 'Expected: '), check.expected),
      h('span', { class: 'small observed' }, h('span', { class: 'muted' }, 'Observed: '), result.observed),
    ),
  );
}

export const labPage: Page = {
  title: 'Security lab',
  requiresAuth: false,
  render() {
    const run = h('button', { id: 'run-lab', type: 'button', class: 'btn btn-primary' }, 'Run all attacks');
    const hint = h('p', { class: 'muted small' });
    const progress = h('p', { class: 'muted', role: 'status' });
    const results = h('div', { class: 'lab-results', 'data-testid': 'lab-results' });
    const sync = () => {
      const authed = client.state().status === 'authenticated';
      run.disabled = !authed || run.classList.contains('is-busy');
      hint.textContent = authed
        ? 'The last group logs you out on purpose: it checks that a logged-out session is dead on the server, not just forgotten by the browser.'
        : 'Log in first: the attacks target your own session.';
    };
    const stop = client.onChange(() => (run.isConnected ? sync() : stop()));
    sync();

    run.addEventListener('click', () => {
      run.classList.add('is-busy');
      run.disabled = true;
      results.removeAttribute('data-state');
      replace(results);
      void (async () => {
        const outcomes: Outcome[] = [];
        for (const check of TOKEN_CHECKS) {
          progress.textContent = `Running: ${check.title}…`;
          outcomes.push(await runOne(check));
        }
        progress.textContent = 'Running: CSRF replays…';
        outcomes.push(
          ...(await csrfChecks().catch((e: Error) => [
            {
              check: { id: 'csrf', group: 'Cross-site request forgery', title: 'CSRF replays', expected: 'Refused' },
              result: { pass: false, observed: e.message },
            },
          ])),
        );
        for (const check of CSP_CHECKS) {
          progress.textContent = `Running: ${check.title}…`;
          outcomes.push(await runOne(check));
        }
        progress.textContent = 'Running: logout checks…';
        outcomes.push(
          ...(await sessionEndChecks().catch((e: Error) => [
            {
              check: { id: 'after-logout', group: SESSION_END_GROUP, title: 'Logout checks', expected: '401' },
              result: { pass: false, observed: e.message },
            },
          ])),
        );

        const groups = new Map<string, Outcome[]>();
        for (const o of outcomes) groups.set(o.check.group, [...(groups.get(o.check.group) ?? []), o]);
        const passed = outcomes.filter((o) => o.result.pass).length;
        replace(
          results,
          h(
            'div',
            {
              class: passed === outcomes.length ? 'banner banner-ok' : 'banner banner-danger',
              'data-testid': 'lab-summary',
            },
            h('strong', {}, `${passed} of ${outcomes.length} attacks blocked`),
            h(
              'span',
              {},
              passed === outcomes.length
                ? 'Every defence held. You were signed out by the last group; log in again to continue.'
                : 'Some defences did not hold: see the failed rows.',
            ),
          ),
          ...Array.from(groups, ([group, rows]) =>
            h(
              'section',
              { class: 'card' },
              h('h2', { class: 'card-title' }, group),
              h('ol', { class: 'lab-list' }, ...rows.map(resultRow)),
            ),
          ),
        );
        results.setAttribute('data-state', 'done');
        progress.textContent = '';
        run.classList.remove('is-busy');
        sync();
      })();
    });

    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Security lab'),
        h(
          'p',
          { class: 'lead' },
          'Runs classic attacks against this very page, live, and shows whether each defence held. Everything runs with the same privileges an injected script would have.',
        ),
      ),
      h(
        'section',
        { class: 'card lab-intro' },
        h(
          'ul',
          { class: 'checklist' },
          h(
            'li',
            {},
            h('strong', {}, 'Token theft: '),
            'read document.cookie, localStorage, sessionStorage, IndexedDB and API responses.',
          ),
          h(
            'li',
            {},
            h('strong', {}, 'CSRF: '),
            'the server replays your own cookies with a forged Origin / Sec-Fetch-Site / CSRF token, since a page cannot forge those headers itself.',
          ),
          h(
            'li',
            {},
            h('strong', {}, 'Injected script: '),
            'load a script from another origin, inline handlers, eval, fetch and image beacons to exfiltrate data.',
          ),
          h(
            'li',
            {},
            h('strong', {}, 'Logout: '),
            'replay cookies stolen before logout and call a protected route after it.',
          ),
        ),
        h('div', { class: 'actions' }, run),
        hint,
        progress,
      ),
      browserProtectionsCard(),
      results,
    );
  },
};
