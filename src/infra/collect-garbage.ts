import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, so that memory figures count what is still
 * referenced rather than what V8 has not collected yet (tens of MiB between
 * two training jobs). Processes run without --expose-gc, so the function is
 * fetched once through V8's flags; where that fails it does nothing.
 */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return () => undefined;
  }
})();
