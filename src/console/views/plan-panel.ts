import { h, mount } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import type { LayerPlan, ModelPlan, WindowAxis } from '../lib/types.js';

function formulaCell(plan: LayerPlan): HTMLElement | string {
  const w = plan.window;
  if (!w) return '';
  const axis = (name: string, a: WindowAxis) =>
    h(
      'div',
      { class: 'formula' },
      h('span', { class: 'axis' }, name),
      h('code', null, a.formula),
      w.padding === 'same' && a.padBefore + a.padAfter > 0 ? h('span', { class: 'sub' }, ` pads ${a.padBefore}+${a.padAfter}`) : null,
    );
  const same = w.rows.formula === w.cols.formula && w.rows.padBefore === w.cols.padBefore && w.rows.padAfter === w.cols.padAfter;
  return h('div', { class: 'formulas' }, same ? axis('H, W', w.rows) : [axis('H', w.rows), axis('W', w.cols)]);
}

function layerRows(plan: LayerPlan, depth: number, label: string): HTMLTableRowElement[] {
  const row = h(
    'tr',
    {
      class: depth > 0 ? 'branch-layer' : '',
      'data-layer-index': depth === 0 ? String(plan.index) : null,
    },
    h('th', { scope: 'row', class: 'num' }, label),
    h('td', null, h('span', { class: 'layer-name' }, plan.name), h('span', { class: 'sub' }, ` ${plan.type}`), formulaCell(plan)),
    h('td', { class: 'num mono' }, fmt.shape(plan.outputShape)),
    h('td', { class: 'num' }, fmt.count(plan.params), plan.nonTrainableParams ? h('div', { class: 'sub' }, `${fmt.count(plan.nonTrainableParams)} frozen`) : null),
    h('td', { class: 'num' }, plan.paramsWithoutSharing !== undefined ? fmt.count(plan.paramsWithoutSharing) : ''),
    h('td', { class: 'num' }, plan.macs ? fmt.compact(plan.macs) : '0'),
  );
  const rows = [row];
  for (const [b, branch] of (plan.branches ?? []).entries()) {
    for (const [i, l] of branch.entries()) rows.push(...layerRows(l, depth + 1, `${label}.${b + 1}.${i + 1}`));
  }
  return rows;
}

/** The plan of a model: totals, then per layer the output shape, parameters with and without sharing, MACs and the window formula. */
export function renderPlan(host: HTMLElement, plan: ModelPlan): void {
  const input = h(
    'tr',
    { class: 'input-row' },
    h('th', { scope: 'row', class: 'num' }, '—'),
    h('td', null, 'input'),
    h('td', { class: 'num mono' }, fmt.shape(plan.inputShape)),
    h('td', { colspan: 3 }),
  );
  mount(
    host,
    h(
      'div',
      { class: 'stats plan-totals' },
      h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, fmt.count(plan.totalParams)), h('span', { class: 'stat-label' }, 'parameters')),
      h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, fmt.compact(plan.macs)), h('span', { class: 'stat-label' }, 'MACs per example')),
      h('div', { class: 'stat' }, h('span', { class: 'stat-value' }, fmt.bytes(plan.weightBytes)), h('span', { class: 'stat-label' }, 'weights (float32)')),
      h('div', { class: 'stat' }, h('span', { class: 'stat-value mono' }, fmt.shape(plan.outputShape)), h('span', { class: 'stat-label' }, 'output')),
    ),
    plan.limits.exceeded.length
      ? h(
          'div',
          { class: 'notice error', role: 'alert' },
          h('p', null, 'Too large to train here:'),
          h(
            'ul',
            null,
            plan.limits.exceeded.map((e) => h('li', null, e)),
          ),
        )
      : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'plan-table' },
        h('caption', { class: 'visually-hidden' }, 'Plan of the model, layer by layer'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col', class: 'num' }, '#'),
            h('th', { scope: 'col' }, 'Layer'),
            h('th', { scope: 'col', class: 'num' }, 'Output'),
            h('th', { scope: 'col', class: 'num' }, 'Params'),
            h(
              'th',
              {
                scope: 'col',
                class: 'num',
                title: 'Parameters if every output position had its own weights (no parameter sharing)',
              },
              'No sharing',
            ),
            h('th', { scope: 'col', class: 'num' }, 'MACs'),
          ),
        ),
        h(
          'tbody',
          null,
          input,
          plan.layers.flatMap((l) => layerRows(l, 0, String(l.index + 1))),
        ),
      ),
    ),
    h(
      'p',
      { class: 'hint' },
      "Under each convolution and pooling layer, its output size: (W − F + 2P)/S + 1 for 'valid' and explicit zeros, ⌈W/S⌉ for 'same' (TensorFlow pads the difference, the odd zero after). “No sharing”: the parameters a convolution would need without parameter sharing.",
    ),
  );
}
