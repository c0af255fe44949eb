import { h } from '../lib/dom.js';
import type { ViewContext } from '../lib/view.js';

export function compareView(_ctx: ViewContext): HTMLElement {
  return h('section', { class: 'page' }, h('h1', null, 'Coming next'));
}
