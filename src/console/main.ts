import './styles.css';
import { onUnauthorized } from './lib/api.js';
import { h, mount } from './lib/dom.js';
import { forgetKey, maskKey, readKey } from './lib/key-store.js';
import { parseRoute } from './lib/router.js';
import { errorBlock } from './lib/ui.js';
import type { View, ViewContext } from './lib/view.js';
import { compareView } from './views/compare.js';
import { datasetView } from './views/dataset.js';
import { datasetsView } from './views/datasets.js';
import { jobView } from './views/job.js';
import { jobsView } from './views/jobs.js';
import { keyPrompt } from './views/key-prompt.js';
import { modelView } from './views/model.js';
import { modelsView, registeredModelView } from './views/models.js';
import { newJobView } from './views/new-job.js';
import { newSweepView } from './views/new-sweep.js';
import { sweepView } from './views/sweep.js';
import { sweepsView } from './views/sweeps.js';

const VIEWS: Record<string, View> = {
  jobs: jobsView,
  job: jobView,
  new: newJobView,
  sweeps: sweepsView,
  sweep: sweepView,
  'new-sweep': newSweepView,
  compare: compareView,
  models: modelsView,
  model: modelView,
  registered: registeredModelView,
  datasets: datasetsView,
  dataset: datasetView,
};

const NAV: [string, string, string[]][] = [
  ['#/jobs', 'Jobs', ['jobs', 'job']],
  ['#/sweeps', 'Sweeps', ['sweeps', 'sweep', 'new-sweep']],
  ['#/new', 'New job', ['new']],
  ['#/compare', 'Compare', ['compare']],
  ['#/models', 'Models', ['models', 'model', 'registered']],
  ['#/datasets', 'Datasets', ['datasets', 'dataset']],
];

const root = document.getElementById('app')!;
let current: AbortController | null = null;
const status = h('div', {
  class: 'toasts',
  role: 'status',
  'aria-live': 'polite',
});

function notify(message: string, kind: 'info' | 'error' | 'success' = 'info'): void {
  const toast = h('p', { class: `toast ${kind}` }, message);
  status.append(toast);
  window.setTimeout(() => toast.remove(), kind === 'error' ? 8000 : 4000);
}

function askForKey(reason?: string): void {
  current?.abort();
  current = null;
  mount(
    root,
    keyPrompt(() => {
      if (!location.hash || location.hash === '#') location.hash = '#/jobs';
      renderShell();
    }, reason),
  );
}

let main: HTMLElement;
let nav: HTMLElement;

function renderShell(): void {
  const key = readKey();
  if (!key) {
    askForKey();
    return;
  }
  nav = h(
    'nav',
    { 'aria-label': 'Console' },
    h(
      'ul',
      null,
      NAV.map(([link, text]) => h('li', null, h('a', { href: link }, text))),
    ),
  );
  const signOut = h(
    'button',
    {
      type: 'button',
      class: 'link-button',
      title: 'Forget the key in this tab',
    },
    'Change key',
  );
  signOut.addEventListener('click', () => {
    forgetKey();
    askForKey();
  });
  main = h('main', { id: 'main', tabindex: '-1' });
  mount(
    root,
    h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'brand', href: '#/jobs' }, h('span', { class: 'logo', 'aria-hidden': 'true' }), 'Trainyard'),
      nav,
      h(
        'div',
        { class: 'session' },
        h('span', { class: 'key-mask', title: 'The API key of this tab' }, h('span', { class: 'visually-hidden' }, 'API key '), maskKey(key)),
        signOut,
      ),
    ),
    main,
    status,
  );
  render();
}

async function render(): Promise<void> {
  if (!readKey()) {
    askForKey();
    return;
  }
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const route = parseRoute(location.hash);
  for (const a of nav.querySelectorAll('a')) {
    const entry = NAV.find(([link]) => link === a.getAttribute('href'));
    if (entry?.[2].includes(route.name)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const ctx: ViewContext = {
    route,
    signal: controller.signal,
    navigate: (hash) => {
      location.hash = hash;
    },
    notify,
  };
  // Until the new view is ready the old one stays, marked busy (and dimmed after a moment).
  main.setAttribute('aria-busy', 'true');
  main.dataset.route = '';
  // The old view cannot be used meanwhile: a click there would act on what is being left.
  main.inert = true;
  const view = VIEWS[route.name];
  try {
    const el = view
      ? await view(ctx)
      : h('section', null, h('h1', null, 'Not found'), h('p', null, `Nothing lives at ${route.params.path}.`), h('a', { href: '#/jobs' }, 'Go to the jobs'));
    if (controller.signal.aborted) return;
    mount(main, el);
  } catch (err) {
    if (controller.signal.aborted || (err as Error).name === 'AbortError') return;
    mount(main, h('h1', null, 'Something went wrong'), errorBlock(err));
  }
  main.setAttribute('aria-busy', 'false');
  main.inert = false;
  main.dataset.route = route.name;
  window.scrollTo(0, 0);
  // Move focus to the new page's heading, as a page load would.
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
  document.title = `${heading?.textContent ?? 'Console'} · Trainyard`;
}

onUnauthorized((error) => {
  forgetKey();
  askForKey(`The API refused the key: ${error.message}`);
});

// The skip link targets the main region without touching the route in the hash.
document.querySelector<HTMLAnchorElement>('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main')?.focus();
});

window.addEventListener('hashchange', () => {
  if (main?.isConnected) render();
});
renderShell();
