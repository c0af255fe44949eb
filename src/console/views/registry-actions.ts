import { api, ApiError, fetchBlob } from '../lib/api.js';
import { field, h, mount, option } from '../lib/dom.js';
import { href } from '../lib/router.js';
import type { ModelVersion, RegisteredModel } from '../lib/types.js';
import { errorBlock } from '../lib/ui.js';
import type { ViewContext } from '../lib/view.js';

/** "Register this model as the next version of <name>" (POST /v1/registered-models/{name}/versions). */
export function registerForm(ctx: ViewContext, modelId: string): HTMLElement {
  const name = h('input', { type: 'text', id: 'register-name', autocomplete: 'off', placeholder: 'e.g. digits' });
  const f = field('Registered model name', name, 'Letters, digits, . _ -; created on first use.');
  const submit = h('button', { type: 'submit', class: 'secondary' }, 'Register');
  const form = h('form', { class: 'inline-form', 'aria-label': 'Register this model' }, f.wrap, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    f.setError(null);
    if (!name.value.trim()) {
      f.setError('Enter a name.');
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const v = await api.post<ModelVersion>(`/v1/registered-models/${encodeURIComponent(name.value.trim())}/versions`, { modelId }, { signal: ctx.signal });
      ctx.notify(`Registered as ${v.name} v${v.version}.`, 'success');
      ctx.navigate(href(`/registry/${encodeURIComponent(v.name)}`));
    } catch (err) {
      f.setError(err instanceof ApiError ? err.message : String(err));
      name.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Point an alias (e.g. `production`) at a version, or remove one (PUT/DELETE /v1/registered-models/{name}/aliases/{alias}). */
export function aliasForm(ctx: ViewContext, model: RegisteredModel, reload: () => void): HTMLElement {
  const alias = h('input', { type: 'text', id: 'alias-name', autocomplete: 'off', placeholder: 'e.g. production' });
  const version = h(
    'select',
    { id: 'alias-version' },
    [...model.versions].reverse().map((v) => option(String(v.version), `v${v.version}`)),
  );
  const fa = field('Alias', alias);
  const fv = field('Version', version);
  const errorHost = h('div');
  const submit = h('button', { type: 'submit', class: 'secondary' }, 'Set alias');
  const base = `/v1/registered-models/${encodeURIComponent(model.name)}/aliases`;
  const form = h('form', { class: 'inline-form', 'aria-label': 'Point an alias at a version' }, fa.wrap, fv.wrap, h('div', { class: 'actions' }, submit), errorHost);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fa.setError(null);
    mount(errorHost);
    if (!alias.value.trim()) {
      fa.setError('Enter an alias.');
      alias.focus();
      return;
    }
    try {
      await api.put(`${base}/${encodeURIComponent(alias.value.trim())}`, { version: Number(version.value) }, { signal: ctx.signal });
      ctx.notify(`@${alias.value.trim()} now points at v${version.value}.`, 'success');
      reload();
    } catch (err) {
      if (err instanceof ApiError && err.errors.some((p) => p.field.includes('alias'))) fa.setError(err.message);
      else mount(errorHost, errorBlock(err));
    }
  });
  const existing = model.aliases.map((a) => {
    const remove = h('button', { type: 'button', class: 'icon-button', 'aria-label': `Remove alias ${a.alias}`, title: 'Remove' }, '✕');
    remove.addEventListener('click', async () => {
      try {
        await api.delete(`${base}/${encodeURIComponent(a.alias)}`, { signal: ctx.signal });
        ctx.notify(`Alias @${a.alias} removed.`, 'success');
        reload();
      } catch (err) {
        ctx.notify(`Could not remove @${a.alias}: ${(err as Error).message}`, 'error');
      }
    });
    return h('li', null, h('span', { class: 'badge alias' }, `@${a.alias} → v${a.version}`), remove);
  });
  return h('div', null, existing.length ? h('ul', { class: 'alias-list' }, existing) : h('p', { class: 'sub' }, 'No aliases yet.'), form);
}

/** Downloads a file of the API with the key in the header (a plain link could not send it). */
export async function download(path: string, filename: string, signal: AbortSignal): Promise<void> {
  const url = URL.createObjectURL(await fetchBlob(path, signal));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
