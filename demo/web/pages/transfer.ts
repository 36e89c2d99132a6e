import { api, describeProblem } from '../api.js';
import { busy, card, field, h, replace, statusLine } from '../dom.js';
import type { Page } from '../page.js';
import { withStepUp } from '../step-up.js';

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' });

export const transferPage: Page = {
  title: 'Transfer',
  requiresAuth: true,
  render() {
    const status = statusLine();
    const result = h('div', { class: 'result-slot' });
    const amount = h('input', {
      name: 'amount',
      type: 'number',
      min: '0.01',
      max: '1000000',
      step: '0.01',
      required: true,
      placeholder: '250.00',
      inputmode: 'decimal',
    });
    const to = h('input', { name: 'to', type: 'text', required: true, maxlength: 100, value: 'Savings account' });
    const form = h(
      'form',
      { id: 'transfer-form', class: 'stack' },
      h('div', { class: 'grid-2 tight' }, field('Amount (EUR)', amount), field('To', to)),
      status.el,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send money')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.show(null);
      replace(result);
      const value = Number(amount.value);
      const recipient = to.value.trim();
      void busy(form, async () => {
        const r = await withStepUp(`Sending ${money.format(value)} to ${recipient} needs a fresh confirmation.`, () =>
          api<{ ok: true }>('/api/transfer', { method: 'POST', body: { amount: value, to: recipient } }),
        );
        if (!r.ok) {
          replace(
            result,
            h(
              'div',
              { class: 'banner banner-danger', 'data-testid': 'transfer-result', 'data-status': 'refused' },
              h('strong', {}, 'Not sent'),
              h(
                'span',
                {},
                r.problem.code === 'step_up_required'
                  ? 'The transfer needs a fresh confirmation of your password.'
                  : describeProblem(r.problem),
              ),
            ),
          );
          return;
        }
        replace(
          result,
          h(
            'div',
            { class: 'banner banner-ok', 'data-testid': 'transfer-result', 'data-status': 'ok' },
            h('strong', {}, `Sent ${money.format(value)} to ${recipient}`),
            h('span', {}, 'The step-up grant was consumed: the next transfer asks again.'),
          ),
        );
        amount.value = '';
      });
    });
    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Transfer'),
        h(
          'p',
          { class: 'lead' },
          'A risky action guarded by step-up: the server answers 401 step_up_required until you confirm your password, then accepts exactly one request.',
        ),
      ),
      h(
        'div',
        { class: 'grid-2 align-start' },
        card('New transfer', form, result),
        card(
          'What happens',
          h(
            'ol',
            { class: 'steps' },
            h('li', {}, h('code', {}, 'POST /api/transfer'), ' → 401 ', h('code', {}, 'step_up_required')),
            h(
              'li',
              {},
              'You confirm your password: ',
              h('code', {}, 'POST /auth/step-up'),
              ' sets a single-use HttpOnly grant cookie, valid 5 minutes',
            ),
            h('li', {}, 'The transfer is retried once and consumes the grant'),
          ),
        ),
      ),
    );
  },
};
