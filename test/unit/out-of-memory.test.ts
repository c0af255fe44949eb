import { describe, expect, it } from 'vitest';
import { planModel, SEED_MNIST_MODEL, type ModelSpec } from '../../src/model-spec/index.js';
import { activationValuesPerExample, isOutOfMemoryError, isWasmAbort, outOfMemoryError } from '../../src/worker/out-of-memory.js';
import { guardWasmAllocations, WASM_HEAP_MAX_BYTES, type WasmModuleLike } from '../../src/engine/wasm-heap.js';
import { WasmOutOfMemoryError } from '../../src/engine/wasm-out-of-memory.error.js';
import { mustRetire } from '../../src/worker/sandbox-process.js';
import { TrainingError } from '../../src/worker/training-error.js';

const WIDE_CONV: ModelSpec = {
  input: { shape: [28, 28, 1] },
  layers: [{ type: 'conv2d', filters: 2048, kernelSize: 3, padding: 'same', activation: 'relu' }, { type: 'globalAvgPool2d' }, { type: 'dense', units: 10, activation: 'softmax' }],
};

function runtimeError(message: string): Error {
  const err = new Error(message);
  err.name = 'RuntimeError';
  return err;
}

describe('recognising an engine that ran out of memory', () => {
  it.each([
    ['our wasm allocation guard', new WasmOutOfMemoryError(5 * 2 ** 30, 2 ** 30, WASM_HEAP_MAX_BYTES), true],
    ['the guard, as serialised across a process', Object.assign(new Error('wasm out of memory: ...'), { name: 'WasmOutOfMemoryError' }), true],
    ['Emscripten failing to grow the heap', runtimeError('Cannot enlarge memory arrays to size 4294967296 bytes'), true],
    ['an Emscripten abort for lack of memory', runtimeError('Aborted(OOM). Build with -sASSERTIONS for more info.'), true],
    ['V8 refusing a typed array (cpu engine)', new RangeError('Array buffer allocation failed'), true],
    ['wasm memory that cannot grow', new RangeError('WebAssembly.Memory(): could not allocate memory'), true],
    ['tfjs-node (TensorFlow)', new Error('OOM when allocating tensor with shape[1024,28,28,2048] and type float'), true],
    ['a shape error', new Error('Error when checking input: expected conv2d_input to have 4 dimension(s)'), false],
    ['an out-of-bounds read', runtimeError('memory access out of bounds'), false],
    ['the database running out of memory', new Error('out of memory\nDETAIL: Failed on request of size 8192'), false],
    ['not an error', 'out of memory', false],
  ])('%s', (_, err, expected) => {
    expect(isOutOfMemoryError(err)).toBe(expected);
  });

  it('tells a wasm abort (the module is dead) from other errors', () => {
    expect(isWasmAbort(runtimeError('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isWasmAbort(new Error('Aborted()'))).toBe(false);
    expect(isWasmAbort(runtimeError('memory access out of bounds'))).toBe(false);
  });

  it('retires the sandbox after an out-of-memory failure or a wasm abort, not after others', () => {
    expect(mustRetire(new TrainingError('out-of-memory', 'x'))).toBe(true);
    expect(mustRetire(runtimeError('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(mustRetire(new TrainingError('loss-diverged', 'x'))).toBe(false);
    expect(mustRetire(new Error('connection refused'))).toBe(false);
  });
});

describe('the out-of-memory failure a user sees', () => {
  it('names the engine limit, the model and batch sizes, and a batch size that fits', () => {
    const plan = planModel(WIDE_CONV);
    const cause = new WasmOutOfMemoryError(880 * 28 * 28 * 2048 * 4, 2 ** 30, WASM_HEAP_MAX_BYTES);
    const err = outOfMemoryError(cause, { plan, batchSize: 1024, trainExamples: 880, engine: 'wasm', optimizer: 'adam' });
    expect(err).toBeInstanceOf(TrainingError);
    expect(err.code).toBe('out-of-memory');
    expect(err.name).toBe('UnrecoverableError');
    expect(err.message).toBe(
      'training ran out of memory on the wasm engine (its heap holds at most 4.00 GiB): a tensor of 5.26 GiB did not fit. ' +
        "The model has 40,970 parameters (160.0 KiB of weights, about 640.2 KiB with gradients and adam's state) and its layer " +
        'outputs take about 12.3 MiB per example with their gradients, about 10.54 GiB for a batch of 880. ' +
        'Lower training.batchSize (now 1024), to 128 or less, or use fewer filters or a smaller input.',
    );
  });

  it('says when the weights, not the batch, are the problem', () => {
    const big: ModelSpec = { input: { shape: [28, 28, 1] }, layers: [{ type: 'flatten' }, { type: 'dense', units: 60_000 }, { type: 'dense', units: 10, activation: 'softmax' }] };
    const err = outOfMemoryError(new RangeError('Array buffer allocation failed'), {
      plan: planModel(big, { maxParams: Infinity }),
      batchSize: 32,
      engine: 'cpu',
      optimizer: 'sgd',
    });
    expect(err.message).toMatch(
      /^training ran out of memory on the cpu engine\. The model has 47,700,010 parameters \(182\.0 MiB of weights, about 363\.9 MiB with gradients\) and its layer outputs/,
    );
    expect(err.message).toMatch(/The weights dominate: use fewer units or filters/);
  });

  it('counts every layer output, inception branches included', () => {
    expect(activationValuesPerExample(planModel(SEED_MNIST_MODEL).layers)).toBe(28 * 28 * 32 + 14 * 14 * 32 + 14 * 14 * 64 + 7 * 7 * 64 + 3136 + 1024 + 1024 + 10);
  });
});

describe('the wasm allocation guard', () => {
  function fakeModule(result: number, heap = 2 ** 30): WasmModuleLike & { calls: number[] } {
    const calls: number[] = [];
    return {
      calls,
      HEAPU8: { length: heap },
      _malloc: (size: number) => {
        calls.push(size);
        return result;
      },
    };
  }

  it('throws instead of letting tfjs place a tensor at address 0 when the heap cannot grow', () => {
    const module = fakeModule(0);
    guardWasmAllocations(module);
    expect(() => module._malloc(1024)).toThrow(WasmOutOfMemoryError);
    expect(() => module._malloc(1024)).toThrow('wasm out of memory: could not allocate 1.0 KiB (heap 1.00 GiB of at most 4.00 GiB)');
  });

  it('refuses sizes that wasm32 would wrap around, without calling malloc', () => {
    const module = fakeModule(64);
    guardWasmAllocations(module);
    expect(() => module._malloc(5 * 2 ** 30)).toThrow(WasmOutOfMemoryError);
    expect(module.calls).toEqual([]);
  });

  it('passes successful allocations through, once however often it is applied', () => {
    const module = fakeModule(4096);
    guardWasmAllocations(module);
    guardWasmAllocations(module);
    expect(module._malloc(16)).toBe(4096);
    expect(module._malloc(0)).toBe(4096);
    expect(module.calls).toEqual([16, 0]);
  });
});
