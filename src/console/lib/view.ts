import type { Route } from './router.js';

export interface ViewContext {
  route: Route;
  /** Aborted when the user leaves the view: streams, timers and requests stop with it. */
  signal: AbortSignal;
  navigate(hash: string): void;
  /** Shows a short message in the status region (announced to screen readers). */
  notify(message: string, kind?: 'info' | 'error' | 'success'): void;
}

export type View = (ctx: ViewContext) => HTMLElement | Promise<HTMLElement>;

/** setInterval that stops when `signal` aborts; runs `fn` once immediately when `now`. */
export function every(ms: number, signal: AbortSignal, fn: () => void | Promise<void>): void {
  let running = false;
  const tick = async () => {
    if (running || signal.aborted) return;
    running = true;
    try {
      await fn();
    } finally {
      running = false;
    }
  };
  const timer = window.setInterval(tick, ms);
  signal.addEventListener('abort', () => window.clearInterval(timer), {
    once: true,
  });
}
