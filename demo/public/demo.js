// The plain demo page: talks to /auth with cookies only; never sees a token.
const $ = (id) => document.getElementById(id);
const csrf = () => (document.cookie.match(/(?:^|; )(?:__Host-|__Secure-)?tw_csrf=([^;]+)/) || [])[1] || '';

async function call(method, path, body) {
  const headers = { 'X-CSRF-Token': csrf() };
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body ? JSON.stringify(body) : undefined });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  return { res, data };
}

async function show() {
  let { res, data } = await call('GET', '/auth/me');
  if (res.status === 401 && data && data.code === 'invalid_token') {
    const r = await call('POST', '/auth/refresh');
    if (r.res.ok) ({ res, data } = await call('GET', '/auth/me'));
  }
  const authed = res.ok;
  $('anon').hidden = authed;
  $('authed').hidden = !authed;
  $('me').textContent = authed ? JSON.stringify(data, null, 2) : '';
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const action = event.submitter && event.submitter.dataset.action === 'signup' ? 'signup' : 'login';
  const form = new FormData(event.target);
  const { res, data } = await call('POST', `/auth/${action}`, { email: form.get('email'), password: form.get('password') });
  $('status').textContent = res.ok ? '' : (data && data.detail) || `Failed (${res.status})`;
  await show();
});
$('logout').addEventListener('click', async () => { await call('POST', '/auth/logout'); await show(); });
$('logout-all').addEventListener('click', async () => { await call('POST', '/auth/logout-all'); await show(); });
show();
