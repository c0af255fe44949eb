/** Small DOM helpers: elements are built from data, never from HTML strings, so nothing a user typed is parsed as markup. */

export type Child = Node | string | number | null | undefined | false | Child[];
export type Props = Record<string, unknown>;

const PROPERTIES = new Set(['value', 'checked', 'selected', 'disabled', 'indeterminate', 'multiple', 'readOnly']);

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

/** `h('button', { class: 'primary', onclick: go }, 'Go')`. `on*` functions become listeners; true/false toggle boolean attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (key === 'class') el.className = String(value);
    else if (PROPERTIES.has(key)) (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** The same for SVG (icons). */
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: SVGElement[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(c);
  return el;
}

/** Replaces the children of `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function on<K extends keyof HTMLElementEventMap>(el: EventTarget, type: K, listener: (e: HTMLElementEventMap[K]) => void, signal?: AbortSignal): void {
  el.addEventListener(type, listener as EventListener, { signal });
}

let ids = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'id'): string {
  return `${prefix}-${++ids}`;
}

/** A labelled form control: the label names the control, the hint and error are announced with it. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
): {
  wrap: HTMLElement;
  error: HTMLElement;
  setError(message: string | null): void;
} {
  const id = control.id || uid('f');
  control.id = id;
  const error = h('p', {
    class: 'field-error',
    id: `${id}-error`,
    hidden: true,
    role: 'alert',
  });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const described = [hintEl ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl, error);
  return {
    wrap,
    error,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
      wrap.classList.toggle('has-error', Boolean(message));
    },
  };
}

export function option(value: string, text: string, selected = false): HTMLOptionElement {
  return h('option', { value, selected }, text);
}

/** Runs `fn` at most once per `ms`, with the last arguments. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel(): void } {
  let timer: number | undefined;
  const wrapped = (...args: A) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => window.clearTimeout(timer);
  return wrapped;
}
