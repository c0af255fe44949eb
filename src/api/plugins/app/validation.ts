import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldProblem } from '../../errors/index.js';
import { describeViolations, fieldName, pointerSegments, type SchemaViolation } from '../../../model-spec/schema-errors.js';
import { layerLabel, type LayerRef } from '../../../model-spec/spec-error.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Request validation. Bodies are validated strictly: no type coercion, no
 * silent removal of unknown fields (Fastify's default), so that a typo in a
 * spec is an error rather than a default. Query strings and path params are
 * strings on the wire and are coerced. `discriminator` makes ajv report only
 * the branch of a union that the `type` field selects.
 */
const common: Options = { allErrors: false, discriminator: true, verbose: true, strict: false, removeAdditional: false };
const bodyAjv = addFormats(new Ajv({ ...common, coerceTypes: false, useDefaults: false }));
const paramAjv = addFormats(new Ajv({ ...common, coerceTypes: 'array', useDefaults: true }));

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? bodyAjv : paramAjv;
  return ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;
};

/** "/model/layers/3/kernelSize" -> "model.layers[3].kernelSize" */
export function pointerToField(pointer: string, prefix = ''): string {
  return fieldName(pointerSegments(pointer), prefix) || '(body)';
}

/** ajv's errors as violations: its `schemaPath` ends with the keyword, whose schema `verbose` hands over. */
function violationOf(e: ErrorObject): SchemaViolation {
  return {
    instancePath: e.instancePath,
    schemaPath: e.schemaPath.slice(0, -e.keyword.length - 1),
    keyword: e.keyword,
    params: e.params,
    schema: e.parentSchema,
  };
}

/**
 * The layer a path points into (`layers/3`, or `layers/4/branches/1/0`
 * inside an inception module), as the model-spec checker labels it, and the
 * rest of the path below it.
 */
function layerAt(path: string[], root: unknown): { ref: LayerRef; rest: string[] } | null {
  const isIndex = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);
  const refAt = (end: number): LayerRef => {
    const node = path.slice(0, end).reduce<unknown>((n, s) => (n as Record<string, unknown> | undefined)?.[s], root) as { type?: unknown; name?: unknown } | undefined;
    return { index: Number(path[end - 1]), type: typeof node?.type === 'string' ? node.type : 'unknown type', userName: typeof node?.name === 'string' ? node.name : undefined };
  };
  const at = path.findIndex((s, k) => path[k - 1] === 'layers' && isIndex(s));
  if (at < 0) return null;
  const outer = refAt(at + 1);
  if (path[at + 1] !== 'branches' || !isIndex(path[at + 2]) || !isIndex(path[at + 3])) return { ref: outer, rest: path.slice(at + 1) };
  return { ref: { ...refAt(at + 4), parent: { ...outer, branch: Number(path[at + 2]) } }, rest: path.slice(at + 4) };
}

/** Turns ajv errors into problems that name the field and say what is allowed, as the model-spec checker words them. */
export function describeValidationErrors(errors: ErrorObject[], root: unknown, prefix = ''): FieldProblem[] {
  return describeViolations(errors.map(violationOf), root).map(({ path, complaint }) => {
    const field = fieldName(path, prefix) || '(body)';
    const layer = layerAt(path, root);
    if (!layer) return { field, message: `${field} ${complaint}` };
    return { field, message: `${layerLabel(layer.ref)}: ${[fieldName(layer.rest), complaint].filter(Boolean).join(' ')}` };
  });
}
