import { readKey } from './key-store.js';
import { type SseEvent, SseParser } from './sse.js';

/** One located mistake of a problem-details answer: `model.layers[2].kernelSize` and what is wrong there. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** An RFC 9457 problem answered by the API (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldProblem[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let unauthorized: (error: ApiError) => void = () => undefined;
/** Called when the API refuses the key (401): the console asks for another. */
export function onUnauthorized(handler: (error: ApiError) => void): void {
  unauthorized = handler;
}

function authHeaders(key = readKey()): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function problemOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { detail: text };
  }
  const detail = typeof body.detail === 'string' && body.detail ? body.detail : `${res.status} ${res.statusText}`;
  const errors = Array.isArray(body.errors) ? (body.errors as FieldProblem[]) : [];
  return new ApiError(res.status, typeof body.code === 'string' ? body.code : 'http-error', detail, errors, body);
}

export interface RequestOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Use this key instead of the stored one (checking a key before keeping it). */
  key?: string;
}

/** Calls the /v1 API with the session's key; throws ApiError for any answer that is not 2xx. */
export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...authHeaders(options.key),
        ...options.headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `the API could not be reached (${(err as Error).message})`);
  }
  if (!res.ok) {
    const error = await problemOf(res);
    if (res.status === 401 && !options.key) unauthorized(error);
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, body ?? {}, options),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, body ?? {}, options),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, undefined, options),
};

/** `?a=1&b=x` from the defined values of `params`. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Uploads a multipart form with progress (fetch cannot report upload
 * progress; XMLHttpRequest can). Same key, same errors as `request`.
 */
export function upload<T>(path: string, form: FormData, onProgress: (loaded: number, total: number) => void, signal?: AbortSignal): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed: the API could not be reached'));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText) as Record<string, unknown>;
      } catch {
        body = { detail: xhr.responseText };
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve({ status: xhr.status, body: body as T });
      const error = new ApiError(
        xhr.status,
        typeof body.code === 'string' ? body.code : 'http-error',
        typeof body.detail === 'string' ? body.detail : `${xhr.status} ${xhr.statusText}`,
        Array.isArray(body.errors) ? (body.errors as FieldProblem[]) : [],
        body,
      );
      if (xhr.status === 401) unauthorized(error);
      reject(error);
    };
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

export interface StreamOptions {
  signal: AbortSignal;
  onEvent(event: SseEvent): void;
  /** Connection state, for a "live" / "reconnecting" badge. */
  onStatus?(status: 'live' | 'reconnecting' | 'ended'): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Follows a Server-Sent Events stream with fetch(), so that the API key goes
 * in the Authorization header (EventSource cannot send headers, and the key
 * never goes in a URL). Reconnects with Last-Event-ID after a `reconnect`
 * event or a dropped connection, and returns after the `end` event.
 */
export async function followEvents(path: string, options: StreamOptions): Promise<void> {
  const { signal } = options;
  let lastEventId: string | undefined;
  let retryMs = 2000;
  let failures = 0;
  while (!signal.aborted) {
    let ended = false;
    try {
      const res = await fetch(path, {
        headers: {
          accept: 'text/event-stream',
          ...authHeaders(),
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        signal,
        cache: 'no-store',
      });
      if (!res.ok || !res.body) {
        const error = await problemOf(res);
        if (res.status === 401) unauthorized(error);
        // 4xx: asking again will not help.
        if (res.status >= 400 && res.status < 500) throw error;
        throw new Error(error.message);
      }
      options.onStatus?.('live');
      failures = 0;
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.retry !== undefined) retryMs = event.retry;
          if (event.id !== undefined) lastEventId = event.id;
          if (event.event === 'end') ended = true;
          if (event.event === 'reconnect') {
            try {
              const info = JSON.parse(event.data) as {
                retryMs?: number;
                lastEventId?: string;
              };
              if (info.retryMs) retryMs = info.retryMs;
              if (info.lastEventId) lastEventId = info.lastEventId;
            } catch {
              /* keep what we had */
            }
          }
          options.onEvent(event);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
      failures++;
    }
    if (ended) {
      options.onStatus?.('ended');
      return;
    }
    if (signal.aborted) return;
    options.onStatus?.('reconnecting');
    await sleep(Math.min(retryMs * Math.max(1, failures), 15_000), signal);
  }
}

/** A file of the API (a model's artifact) as a Blob, fetched with the key in the header. */
export async function fetchBlob(path: string, signal?: AbortSignal): Promise<Blob> {
  const res = await fetch(path, { headers: authHeaders(), signal, cache: 'no-store' });
  if (!res.ok) {
    const error = await problemOf(res);
    if (res.status === 401) unauthorized(error);
    throw error;
  }
  return res.blob();
}
