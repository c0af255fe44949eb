import { expect } from 'vitest';
import { SpecError } from '../../src/model-spec/index.js';

/** Runs `run`, which must throw a SpecError, and returns it. */
export function failure(run: () => unknown): SpecError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error('expected a SpecError');
}
