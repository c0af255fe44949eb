import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { describeViolations, fieldName, pointerSegments, toPointer, typeboxViolations } from './schema-errors.js';
import { SpecError, layerError, type LayerRef } from './spec-error.js';

/**
 * Where the checked value sits: inside a layer (messages get the layer label)
 * or at a JSON pointer of the document (`''` for the root).
 */
export type CheckSite = { layer: LayerRef; pointer: string } | { layer?: undefined; pointer: string };

/**
 * Validates `value` against one TypeBox schema (never a discriminated union:
 * callers dispatch on `type` first so that only one variant is reported) and
 * throws a SpecError for the first problem, worded as the API words it.
 */
export function checkSchema(schema: TSchema, value: unknown, site: CheckSite): void {
  if (Value.Check(schema, value)) return;
  const [{ path, complaint }] = describeViolations(typeboxViolations(schema, Value.Errors(schema, value)), value);
  const pointer = `${site.pointer}${toPointer(path)}`;
  const sentence = [fieldName(path), complaint].filter(Boolean).join(' ');
  if (site.layer !== undefined) throw layerError(site.layer, sentence, path[0], pointer);
  const prefix = fieldName(pointerSegments(site.pointer));
  const field = fieldName([...pointerSegments(site.pointer), ...path]);
  throw new SpecError(prefix === '' ? sentence : `${prefix}: ${sentence}`, { field: field || undefined, path: pointer });
}

/** A value in model-spec's own messages: strings in single quotes, as allowed values are listed there. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  const spaced = text.replace(/,(?=\S)/g, ', ');
  return spaced.length > 60 ? `${spaced.slice(0, 57)}...` : spaced;
}
