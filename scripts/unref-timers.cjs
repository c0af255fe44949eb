// Preloaded into Prisma CLI runs: its WebAssembly schema engine leaves 10 s and
// 60 s timers alive, so every command would hang that long after finishing.
const original = global.setTimeout;
global.setTimeout = function unrefSetTimeout(...args) {
  const timer = original.apply(this, args);
  if (timer && typeof timer.unref === 'function' && Number(args[1]) >= 5000) timer.unref();
  return timer;
};
const originalInterval = global.setInterval;
global.setInterval = function unrefSetInterval(...args) {
  const timer = originalInterval.apply(this, args);
  if (timer && typeof timer.unref === 'function' && Number(args[1]) >= 5000) timer.unref();
  return timer;
};
