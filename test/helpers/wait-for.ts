/**
 * Polls `read` until `until` accepts its value and returns that value. Fails
 * loudly, with the last value seen, when `timeoutMs` passes: a deadline here
 * only turns a hang into a readable failure, it is not a performance limit.
 */
export async function waitFor<T>(
  read: () => Promise<T>,
  until: (value: T) => boolean,
  { timeoutMs, intervalMs = 200, what = 'condition' }: { timeoutMs: number; intervalMs?: number; what?: string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
