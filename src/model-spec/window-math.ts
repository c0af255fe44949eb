/** Padding along one axis: TensorFlow's modes or explicit `[before, after]` zeros. */
export type AxisPadding = 'same' | 'valid' | readonly [number, number];

/**
 * Output length of a sliding window (convolution or pooling) along one axis,
 * by TensorFlow's rules, which the lesson shows differ from the textbook
 * formula for SAME:
 * - SAME:  ceil(in / S)
 * - VALID: ceil((in - F + 1) / S)
 * - explicit P: floor((in + P_before + P_after - F) / S) + 1, the lesson's
 *   (W - F + 2P) / S + 1 generalised to uneven padding.
 * A result below 1 means the window does not fit; callers report that.
 */
export function windowOutputLength(inLength: number, window: number, stride: number, padding: AxisPadding): number {
  if (padding === 'same') return Math.ceil(inLength / stride);
  if (padding === 'valid') return Math.ceil((inLength - window + 1) / stride);
  const [before, after] = padding;
  return Math.floor((inLength + before + after - window) / stride) + 1;
}

/** Splits a 2-D padding into per-axis paddings: rows use top/bottom, columns left/right. */
export function axisPaddings(padding: 'same' | 'valid' | readonly [number, number, number, number]): [AxisPadding, AxisPadding] {
  if (typeof padding === 'string') return [padding, padding];
  return [
    [padding[0], padding[1]],
    [padding[2], padding[3]],
  ];
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function formatPadding(padding: 'same' | 'valid' | readonly number[]): string {
  return typeof padding === 'string' ? `'${padding}'` : formatShape(padding);
}

/** 2345678901 → `2,345,678,901`; fixed locale so messages are stable across hosts. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** One axis of a convolution or pooling window: the numbers of the lesson's formula, filled in. */
export interface WindowAxisPlan {
  input: number;
  window: number;
  stride: number;
  /** Zeros added before and after along this axis (for SAME, what TensorFlow adds: the odd one goes after). */
  padBefore: number;
  padAfter: number;
  output: number;
  /** e.g. `(32 − 8 + 2·0)/2 + 1 = 13`, or `⌈28/2⌉ = 14` for SAME. */
  formula: string;
}

/**
 * The output length of one axis with the formula that gives it, numbers
 * filled in: the lesson's (W − F + 2P)/S + 1 (floored, ⌊…⌋, when S does not
 * divide), or TensorFlow's ⌈W/S⌉ for SAME, with the padding SAME implies.
 */
export function windowAxisPlan(inLength: number, window: number, stride: number, padding: AxisPadding): WindowAxisPlan {
  const output = windowOutputLength(inLength, window, stride, padding);
  if (padding === 'same') {
    const total = Math.max((output - 1) * stride + window - inLength, 0);
    const padBefore = Math.floor(total / 2);
    return { input: inLength, window, stride, padBefore, padAfter: total - padBefore, output, formula: `⌈${inLength}/${stride}⌉ = ${output}` };
  }
  const [padBefore, padAfter] = padding === 'valid' ? [0, 0] : padding;
  const pad = padBefore === padAfter ? `2·${padBefore}` : `${padBefore} + ${padAfter}`;
  const numerator = `${inLength} − ${window} + ${pad}`;
  const exact = (inLength + padBefore + padAfter - window) % stride === 0;
  const quotient = stride === 1 ? `(${numerator})` : exact ? `(${numerator})/${stride}` : `⌊(${numerator})/${stride}⌋`;
  return { input: inLength, window, stride, padBefore, padAfter, output, formula: `${quotient} + 1 = ${output}` };
}
