/** Numbers in user-facing messages: `7,840,016`, the same on every server locale. */
export function fmt(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

/** `28x28x1`, the way shapes are written in messages. */
export function shapeText(shape: readonly number[]): string {
  return shape.map((d) => fmt(d)).join('x');
}
