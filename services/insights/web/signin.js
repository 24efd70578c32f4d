// #/signin: the API key for a session (POST /api/v1/session). The key is sent once and not kept;
// the session is an HttpOnly cookie (api.js).
import { signIn } from './api.js';
import { h, replace } from './dom.js';

export function renderSignIn(view) {
  const error = h('p', { class: 'error', 'data-testid': 'signin-error', id: 'signin-error', role: 'alert', hidden: true });
  const key = h('input', {
    id: 'signin-key', name: 'apiKey', type: 'password', required: true, autocomplete: 'off',
    spellcheck: 'false', 'data-testid': 'signin-key', 'aria-describedby': 'signin-error',
  });
  const submit = h('button', { type: 'submit', 'data-testid': 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'signin card', 'data-testid': 'signin-form', novalidate: true },
    h('h1', {}, 'Sign in'),
    h('label', { for: 'signin-key' }, 'API key'),
    key, submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!key.value.trim()) {
      replace(error, 'Enter your API key.');
      error.hidden = false;
      key.focus();
      return;
    }
    submit.disabled = true;
    try {
      await signIn(key.value.trim());
      key.value = '';
      location.hash = '#/caseload';
    } catch (e) {
      const text = e.status === 401 ? 'This key is not known. Check it and try again.'
        : e.status === 403 ? 'This key may not read the dashboard (it needs the read scope).'
          : e.message || 'Sign-in failed.';
      replace(error, text);
      error.hidden = false;
      key.focus();
    } finally {
      submit.disabled = false;
    }
  });
  replace(view, form);
  key.focus();
  return null;
}
