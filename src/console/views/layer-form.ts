import { field, h, option } from '../lib/dom.js';
import * as fmt from '../lib/format.js';
import { formatWindow, parseNumber, parseWindow } from '../lib/spec-input.js';
import type { LayerPlan, LayerSpec, ModelSpec } from '../lib/types.js';
import { ACTIVATIONS, type FieldDef, FIELDS, LAYER_DEFAULTS, LAYER_TYPES } from './layer-fields.js';

export type ErrorSink = Map<string, (message: string | null) => void>;

export interface LayerEditorOptions {
  model: ModelSpec;
  onChange(): void;
  /** Where each control reports errors: `model.layers[2].kernelSize` → its setError. */
  errors: ErrorSink;
}

/** The layers of a compact model spec as a form: one card per layer, fields by type, with the plan's line for it. */
export class LayerEditor {
  readonly el = h('div', { class: 'layers' });
  private summaries: HTMLElement[] = [];
  private focusAfterRender: string | null = null;
  private readonly addType = h(
    'select',
    { 'aria-label': 'Type of the layer to add' },
    LAYER_TYPES.map((t) => option(t, t, t === 'conv2d')),
  );

  constructor(private readonly opts: LayerEditorOptions) {
    this.render();
  }

  private get layers(): LayerSpec[] {
    return this.opts.model.layers;
  }

  render(): void {
    for (const key of [...this.opts.errors.keys()]) if (key.startsWith('model.layers')) this.opts.errors.delete(key);
    this.summaries = [];
    const cards = this.layers.map((layer, i) => this.card(layer, i));
    const add = h('button', { type: 'button', class: 'secondary', id: 'add-layer' }, '+ Add layer');
    add.addEventListener('click', () => {
      this.layers.push(structuredClone(LAYER_DEFAULTS[this.addType.value]));
      this.focusAfterRender = `layer-${this.layers.length - 1}-type`;
      this.changed(true);
    });
    this.el.replaceChildren(h('ol', { class: 'layer-list' }, cards), h('div', { class: 'add-layer' }, this.addType, add));
    if (this.focusAfterRender) {
      document.getElementById(this.focusAfterRender)?.focus();
      this.focusAfterRender = null;
    }
  }

  private changed(structure = false): void {
    if (structure) this.render();
    this.opts.onChange();
  }

  private card(layer: LayerSpec, i: number): HTMLElement {
    const path = `model.layers[${i}]`;
    const typeSelect = h(
      'select',
      { id: `layer-${i}-type` },
      LAYER_TYPES.map((t) => option(t, t, t === layer.type)),
    );
    if (!LAYER_TYPES.includes(layer.type as (typeof LAYER_TYPES)[number])) typeSelect.prepend(option(layer.type, layer.type, true));
    typeSelect.addEventListener('change', () => {
      this.layers[i] = structuredClone(LAYER_DEFAULTS[typeSelect.value] ?? { type: typeSelect.value });
      this.focusAfterRender = `layer-${i}-type`;
      this.changed(true);
    });
    const move = (delta: number, label: string, disabled: boolean) => {
      const b = h(
        'button',
        {
          type: 'button',
          class: 'icon-button',
          'aria-label': `Move layer ${i + 1} ${label}`,
          title: `Move ${label}`,
          disabled,
        },
        delta < 0 ? '↑' : '↓',
      );
      b.addEventListener('click', () => {
        const [l] = this.layers.splice(i, 1);
        this.layers.splice(i + delta, 0, l);
        this.focusAfterRender = `layer-${i + delta}-type`;
        this.changed(true);
      });
      return b;
    };
    const remove = h(
      'button',
      {
        type: 'button',
        class: 'icon-button danger',
        'aria-label': `Remove layer ${i + 1}`,
        title: 'Remove',
        disabled: this.layers.length === 1,
      },
      '✕',
    );
    remove.addEventListener('click', () => {
      this.layers.splice(i, 1);
      this.focusAfterRender = this.layers.length ? `layer-${Math.min(i, this.layers.length - 1)}-type` : 'add-layer';
      this.changed(true);
    });
    const summary = h('span', { class: 'layer-summary', 'aria-live': 'off' });
    this.summaries.push(summary);
    const layerError = h('p', {
      class: 'field-error',
      role: 'alert',
      hidden: true,
    });
    const cardEl = h('li', {
      class: 'layer-card',
      'data-layer-index': String(i),
    });
    this.opts.errors.set(path, (m) => {
      layerError.textContent = m ?? '';
      layerError.hidden = !m;
      cardEl.classList.toggle('has-error', Boolean(m));
    });
    const typeLabel = h('label', { for: typeSelect.id, class: 'visually-hidden' }, `Type of layer ${i + 1}`);
    cardEl.append(
      h(
        'div',
        { class: 'layer-head' },
        h('span', { class: 'layer-number' }, `${i + 1}`),
        typeLabel,
        typeSelect,
        summary,
        h('span', { class: 'layer-tools' }, move(-1, 'up', i === 0), move(1, 'down', i === this.layers.length - 1), remove),
      ),
      layerError,
      h(
        'div',
        { class: 'layer-fields' },
        (FIELDS[layer.type] ?? []).map((def) => this.control(layer, def, `${path}.${def.key}`, i)),
      ),
    );
    return cardEl;
  }

  private control(layer: LayerSpec, def: FieldDef, path: string, i: number): HTMLElement {
    const id = `layer-${i}-${def.key}`;
    const set = (value: unknown) => {
      if (value === '' || value === undefined) {
        if (def.optional) delete layer[def.key];
        else layer[def.key] = value ?? '';
      } else layer[def.key] = value;
      this.changed();
    };
    const label = `${def.label}`;
    let control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    let extra: HTMLElement | null = null;
    switch (def.kind) {
      case 'activation':
      case 'pool-padding': {
        const choices = def.kind === 'activation' ? ACTIVATIONS : ['valid', 'same'];
        control = h(
          'select',
          { id },
          def.optional ? option('', def.kind === 'activation' ? 'default (linear)' : 'default (valid)') : null,
          choices.map((c) => option(c, c, layer[def.key] === c)),
        );
        control.addEventListener('change', () => set(control.value));
        break;
      }
      case 'conv-padding': {
        const current = layer[def.key];
        const mode = current === undefined ? '' : typeof current === 'string' ? current : 'zeros';
        const select = h(
          'select',
          { id },
          option('', 'default (valid)', mode === ''),
          option('valid', 'valid', mode === 'valid'),
          option('same', 'same', mode === 'same'),
          option('zeros', 'zeros…', mode === 'zeros'),
        );
        const zeros = h('input', {
          type: 'text',
          id: `${id}-zeros`,
          inputmode: 'numeric',
          value: mode === 'zeros' ? formatWindow(current) : '',
          'aria-label': `Zero padding of layer ${i + 1}: P, or top, bottom, left, right`,
          placeholder: 'P or t, b, l, r',
          hidden: mode !== 'zeros',
        });
        const apply = () => {
          zeros.hidden = select.value !== 'zeros';
          if (select.value !== 'zeros') {
            set(select.value);
            return;
          }
          const parts = zeros.value.split(/[\s,]+/).filter(Boolean);
          set(
            parts.length === 1 && /^\d+$/.test(parts[0])
              ? Number(parts[0])
              : parts.length === 4 && parts.every((p) => /^\d+$/.test(p))
                ? parts.map(Number)
                : zeros.value.trim() || 0,
          );
        };
        select.addEventListener('change', apply);
        zeros.addEventListener('input', apply);
        control = select;
        extra = zeros;
        break;
      }
      case 'json': {
        control = h('textarea', { id, rows: 6, spellcheck: 'false' });
        control.value = JSON.stringify(layer[def.key] ?? [], null, 1);
        control.addEventListener('input', () => {
          try {
            set(JSON.parse(control.value));
          } catch {
            this.opts.errors.get(path)?.('not valid JSON yet');
          }
        });
        break;
      }
      default: {
        const numeric = def.kind === 'int' || def.kind === 'number' || def.kind === 'window';
        control = h('input', {
          type: 'text',
          id,
          inputmode: numeric ? (def.kind === 'number' ? 'decimal' : 'numeric') : 'text',
          autocomplete: 'off',
          spellcheck: 'false',
          placeholder: def.hint,
          title: def.kind === 'window' ? 'n for n×n, or height, width' : undefined,
          value: def.kind === 'window' ? formatWindow(layer[def.key]) : (layer[def.key] ?? ''),
        });
        control.addEventListener('input', () => {
          const v = control.value;
          set(v.trim() === '' ? '' : def.kind === 'window' ? parseWindow(v) : numeric ? parseNumber(v) : v.trim());
        });
      }
    }
    const f = field(label, control, def.kind === 'json' ? def.hint : undefined);
    if (extra) f.wrap.append(extra);
    f.wrap.classList.add(`field-${def.key}`);
    this.opts.errors.set(path, f.setError);
    return f.wrap;
  }

  /** Puts the plan's line (output shape, parameters) on each layer's card. */
  showPlan(layers: LayerPlan[] | null): void {
    this.summaries.forEach((s, i) => {
      const p = layers?.[i];
      s.textContent = p ? `→ ${fmt.shape(p.outputShape)} · ${fmt.count(p.params)} params${p.window ? ` · ${p.window.rows.formula}` : ''}` : '';
    });
  }
}
