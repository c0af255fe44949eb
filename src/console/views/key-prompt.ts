import { ApiError, api } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { saveKey } from '../lib/key-store.js';

/**
 * Asks for an API key, checks it against the API, and keeps it in this tab's
 * session only. `reason` explains why it asks again (a refused key).
 */
export function keyPrompt(onAccepted: () => void, reason?: string): HTMLElement {
  const input = h('input', {
    type: 'password',
    name: 'api-key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'ty_…',
  });
  const f = field('API key', input, 'Sent as "Authorization: Bearer <key>" with every /v1 request. Kept in this browser tab only (sessionStorage), never in a URL.');
  const show = h('input', { type: 'checkbox', id: 'show-key' });
  show.addEventListener('change', () => (input.type = show.checked ? 'text' : 'password'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Continue');
  const form = h(
    'form',
    { class: 'key-form', 'aria-labelledby': 'key-title' },
    h('h1', { id: 'key-title' }, 'Trainyard console'),
    h('p', null, 'Enter an API key to see and train your models.'),
    reason ? h('p', { class: 'notice error', role: 'alert' }, reason) : null,
    f.wrap,
    h('div', { class: 'checkbox' }, show, h('label', { for: 'show-key' }, 'Show the key')),
    h('div', { class: 'actions' }, submit),
    h(
      'p',
      { class: 'hint' },
      'No key yet? The first ',
      h('code', null, 'npm start'),
      ' prints one; operators create more with ',
      h('code', null, 'npm run keys -- create --tenant <name>'),
      '.',
    ),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) {
      f.setError('Enter a key.');
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Checking…';
    try {
      await api.get('/v1/jobs?limit=1', { key });
      saveKey(key);
      onAccepted();
    } catch (err) {
      f.setError(err instanceof ApiError && err.status === 401 ? `The API refused this key: ${err.message}` : `Could not check the key: ${(err as Error).message}`);
      input.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Continue';
    }
  });
  queueMicrotask(() => input.focus());
  return h('main', { id: 'main', class: 'key-page' }, form);
}
