import { h } from '../lib/dom.js';
import type { ViewContext } from '../lib/view.js';

export function modelsView(_ctx: ViewContext): HTMLElement {
  return h('section', { class: 'page' }, h('h1', null, 'Models'));
}
export function registeredModelView(_ctx: ViewContext): HTMLElement {
  return h('section', { class: 'page' }, h('h1', null, 'Registered model'));
}
