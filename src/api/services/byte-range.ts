/**
 * The one `Range: bytes=...` request an artifact download answers
 * (RFC 9110, section 14). Several ranges, another unit or a malformed header
 * are ignored, as the RFC allows: the whole file is sent.
 */
export type RangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

const WHOLE: RangeAnswer = { kind: 'whole' };
const UNSATISFIABLE: RangeAnswer = { kind: 'unsatisfiable' };

export function byteRangeOf(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return WHOLE;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return WHOLE;
  if (m[1] === '') {
    // "bytes=-N": the last N bytes.
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  // "bytes=<start>-<end>" with end before start is malformed: ignored.
  if (m[2] !== '' && Number(m[2]) < start) return WHOLE;
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'part', start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}
