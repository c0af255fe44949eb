import { describe, expect, it } from 'vitest';
import { type AxisPadding, planModel, SEED_MNIST_MODEL, windowAxisPlan, windowOutputLength } from '../../src/model-spec/index.js';

describe('the output-size formula of a window, numbers filled in', () => {
  it.each<[number, number, number, AxisPadding, string, number, number]>([
    // input, window, stride, padding, formula, padBefore, padAfter
    [32, 8, 2, 'valid', '(32 − 8 + 2·0)/2 + 1 = 13', 0, 0],
    [28, 3, 2, 'valid', '⌊(28 − 3 + 2·0)/2⌋ + 1 = 13', 0, 0],
    [14, 2, 2, 'valid', '(14 − 2 + 2·0)/2 + 1 = 7', 0, 0],
    [28, 5, 1, 'valid', '(28 − 5 + 2·0) + 1 = 24', 0, 0],
    [28, 5, 1, [2, 2], '(28 − 5 + 2·2) + 1 = 28', 2, 2],
    [32, 5, 2, [1, 2], '(32 − 5 + 1 + 2)/2 + 1 = 16', 1, 2],
    [28, 5, 1, 'same', '⌈28/1⌉ = 28', 2, 2],
    [28, 2, 2, 'same', '⌈28/2⌉ = 14', 0, 0],
    // SAME puts the odd zero after, as TensorFlow does.
    [7, 2, 2, 'same', '⌈7/2⌉ = 4', 0, 1],
    [5, 4, 1, 'same', '⌈5/1⌉ = 5', 1, 2],
  ])('W=%i F=%i S=%i padding %j: %s', (input, window, stride, padding, formula, padBefore, padAfter) => {
    const plan = windowAxisPlan(input, window, stride, padding);
    expect(plan).toEqual({
      input,
      window,
      stride,
      padBefore,
      padAfter,
      output: windowOutputLength(input, window, stride, padding),
      formula,
    });
    expect(formula.endsWith(`= ${plan.output}`)).toBe(true);
    // The formula agrees with the explicit-padding rule for the zeros it reports.
    expect(windowOutputLength(input, window, stride, [plan.padBefore, plan.padAfter])).toBe(plan.output);
  });

  it('is in the plan of every convolution and pooling layer, per axis', () => {
    const plan = planModel(SEED_MNIST_MODEL);
    expect(plan.layers.map((l) => l.window?.rows.formula ?? null)).toEqual(['⌈28/1⌉ = 28', '⌈28/2⌉ = 14', '⌈14/1⌉ = 14', '(14 − 2 + 2·0)/2 + 1 = 7', null, null, null, null]);
    expect(plan.layers[0].window).toEqual({
      padding: 'same',
      rows: {
        input: 28,
        window: 5,
        stride: 1,
        padBefore: 2,
        padAfter: 2,
        output: 28,
        formula: '⌈28/1⌉ = 28',
      },
      cols: {
        input: 28,
        window: 5,
        stride: 1,
        padBefore: 2,
        padAfter: 2,
        output: 28,
        formula: '⌈28/1⌉ = 28',
      },
    });
    const rect = planModel({
      input: { shape: [32, 20, 3] },
      layers: [
        {
          type: 'conv2d',
          filters: 4,
          kernelSize: [8, 4],
          strides: [2, 1],
          padding: [0, 0, 1, 1],
        },
      ],
    });
    expect(rect.layers[0].window).toMatchObject({
      padding: 'explicit',
      rows: { formula: '(32 − 8 + 2·0)/2 + 1 = 13' },
      cols: { formula: '(20 − 4 + 2·1) + 1 = 19' },
    });
    expect(rect.outputShape).toEqual([13, 19, 4]);
  });

  it('is in the plan of the layers inside an inception branch', () => {
    const plan = planModel({
      input: { shape: [14, 14, 8] },
      layers: [
        {
          type: 'inception',
          branches: [[{ type: 'conv2d', filters: 2, kernelSize: 1 }], [{ type: 'maxPool2d', poolSize: 3, strides: 1, padding: 'same' }]],
        },
      ],
    });
    expect(plan.layers[0].window).toBeUndefined();
    expect(plan.layers[0].branches?.map((b) => b[0].window?.rows.formula)).toEqual(['(14 − 1 + 2·0) + 1 = 14', '⌈14/1⌉ = 14']);
  });
});
