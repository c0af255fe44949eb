import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { FIELD_EXPECTATIONS } from './layer-spec.schema.js';
import { SpecError, layerError, type LayerRef } from './spec-error.js';

/**
 * Where the checked value sits: inside a layer (messages get the layer label)
 * or at a JSON pointer of the document (`''` for the root).
 */
export type CheckSite = { layer: LayerRef; pointer: string } | { layer?: undefined; pointer: string };

interface RawError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
};

const EXTRA_EXPECTATIONS: Record<string, string> = {
  'input.shape': `[height, width, channels] or [features] of positive integers`,
  name: "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
};

/**
 * Validates `value` against one TypeBox schema (never a discriminated union:
 * callers dispatch on `type` first so that only one variant is reported) and
 * throws a SpecError for the first problem, phrased for humans.
 */
export function checkSchema(schema: TSchema, value: unknown, site: CheckSite): void {
  if (Value.Check(schema, value)) return;
  const errors = Value.Errors(schema, value) as unknown as RawError[];
  const primary = pickPrimary(errors);
  throw toSpecError(primary, schema, value, site);
}

function pickPrimary(errors: RawError[]): RawError {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/anyOf/`);
  const candidates = errors.filter(
    // `boolean` is TypeBox's echo of `additionalProperties: false`; the
    // `additionalProperties` error itself names the offending keys.
    (e) => e.keyword !== 'boolean' && !anyOfPaths.some((prefix) => e.schemaPath.startsWith(prefix)),
  );
  return candidates[0] ?? errors[0];
}

function segmentsOf(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `['input', 'shape', '0']` → `input.shape[0]`. */
function fieldName(segments: string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

function valueAt(root: unknown, segments: string[]): unknown {
  let cur = root;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function schemaAt(root: TSchema, schemaPath: string): Record<string, unknown> | undefined {
  let cur: unknown = root;
  for (const s of segmentsOf(schemaPath.replace(/^#/, ''))) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>) : undefined;
}

export function show(value: unknown): string {
  // Single quotes match how allowed values are listed in the same message.
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  const spaced = text.replace(/,(?=\S)/g, ', ');
  return spaced.length > 60 ? `${spaced.slice(0, 57)}...` : spaced;
}

function quoteList(values: unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `'${v}'` : show(v))).join(', ');
}

function describe(e: RawError, schema: TSchema, field: string, got: unknown): string {
  const p = e.params;
  const gotText = got === undefined ? '' : `, got ${show(got)}`;
  const subject = field === '' ? 'the value' : field;
  switch (e.keyword) {
    case 'type':
      return `${subject} must be ${TYPE_WORDS[String(p.type)] ?? String(p.type)}${gotText}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${subject} must be ${String(p.comparison)} ${String(p.limit)}${gotText}`;
    case 'minItems':
      return `${subject} must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}${gotText}`;
    case 'maxItems':
      return `${subject} must have at most ${String(p.limit)} items, got ${(got as unknown[]).length}`;
    case 'const':
      return `${subject} must be ${show(p.allowedValue)}${gotText}`;
    case 'enum':
      return `${subject} must be one of ${quoteList(p.allowedValues as unknown[])}${gotText}`;
    case 'anyOf': {
      const last = field.split('.').at(-1) ?? field;
      const expected = EXTRA_EXPECTATIONS[field] ?? FIELD_EXPECTATIONS[last] ?? 'one of the allowed forms';
      return `${subject} must be ${expected}${gotText}`;
    }
    case 'pattern':
    case 'minLength':
    case 'maxLength': {
      const last = field.split('.').at(-1) ?? field;
      const expected = EXTRA_EXPECTATIONS[last];
      return expected === undefined ? `${subject} ${e.message}${gotText}` : `${subject} must be ${expected}${gotText}`;
    }
    case 'required': {
      const missing = (p.requiredProperties as string[] | undefined)?.[0] ?? '?';
      return `${field === '' ? '' : `${field}.`}${missing} is required`;
    }
    case 'additionalProperties': {
      const extra = (p.additionalProperties as string[] | undefined)?.[0] ?? '?';
      const allowed = Object.keys((schemaAt(schema, e.schemaPath)?.properties as object | undefined) ?? {});
      const where = field === '' ? '' : ` in ${field}`;
      return `unknown field '${extra}'${where}; allowed fields are ${allowed.join(', ')}`;
    }
    default:
      return `${subject} ${e.message}${gotText}`;
  }
}

function toSpecError(e: RawError, schema: TSchema, value: unknown, site: CheckSite): SpecError {
  const segments = segmentsOf(e.instancePath);
  const field = fieldName(segments);
  const got = ['required', 'additionalProperties'].includes(e.keyword) ? undefined : valueAt(value, segments);
  const message = describe(e, schema, field, got);
  // The offending key, not the object holding it, is what a client wants to highlight.
  let faultSegments = segments;
  if (e.keyword === 'required') faultSegments = [...segments, String((e.params.requiredProperties as string[])[0])];
  if (e.keyword === 'additionalProperties') faultSegments = [...segments, String((e.params.additionalProperties as string[])[0])];
  const faultField = fieldName(faultSegments);
  const pointer = `${site.pointer}${faultSegments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')}`;
  if (site.layer !== undefined) {
    return layerError(site.layer, message, faultField.split(/[.[]/)[0] || undefined, pointer);
  }
  const prefix = site.pointer === '' ? '' : fieldName(segmentsOf(site.pointer));
  const fullField = [prefix, faultField].filter((s) => s !== '').join('.');
  return new SpecError(prefix === '' ? message : `${prefix}: ${message}`, { field: fullField || undefined, path: pointer });
}
