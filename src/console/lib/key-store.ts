/**
 * The API key lives in this tab's sessionStorage only: never in a URL, a
 * cookie or localStorage, so it is gone when the tab closes.
 */
const KEY = 'trainyard.apiKey';

export function readKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

/** `ty_abc…wxyz`: enough to tell keys apart, not enough to use one. */
export function maskKey(key: string): string {
  return key.length <= 10 ? '•'.repeat(key.length) : `${key.slice(0, 3)}…${key.slice(-4)}`;
}
