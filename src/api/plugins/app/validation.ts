import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldProblem } from '../../errors/index.js';

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

type Schema = Record<string, any>;

/** "an integer from 1 to 4096", "one of 'same', 'valid'": what a value of this schema may be. */
export function describeSchema(schema: Schema | undefined): string {
  if (!schema || typeof schema !== 'object') return 'a valid value';
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return alternatives.map((s: Schema) => describeSchema(s)).join(' or ');
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const noun = schema.type === 'integer' ? 'an integer' : 'a number';
      const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? `> ${schema.exclusiveMinimum}` : undefined);
      const hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? `< ${schema.exclusiveMaximum}` : undefined);
      if (typeof lo === 'number' && typeof hi === 'number') return `${noun} from ${lo} to ${hi}`;
      const parts = [
        typeof lo === 'number' ? `≥ ${lo}` : lo,
        typeof hi === 'number' ? `≤ ${hi}` : hi,
      ].filter(Boolean);
      return parts.length ? `${noun} ${parts.join(' and ')}` : noun;
    }
    case 'string':
      return Array.isArray(schema.enum) ? describeSchema({ enum: schema.enum }) : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array': {
      const tuple = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : null;
      if (tuple) {
        const kinds = tuple.map((s: Schema) => describeSchema(s).replace(/^an? /, ''));
        const same = kinds.every((k: string) => k.split(' ')[0] === kinds[0].split(' ')[0]);
        return same ? `a list of ${kinds.length} ${plural(kinds[0].split(' ')[0])}` : `a list [${kinds.join(', ')}]`;
      }
      const items = schema.items ? describeSchema(schema.items).replace(/^an? /, '') : 'values';
      if (schema.minItems !== undefined && schema.minItems === schema.maxItems) return `a list of ${schema.minItems} ${plural(items)}`;
      return `a list of ${plural(items)}`;
    }
    case 'object':
      return 'an object';
    default:
      return 'a valid value';
  }
}

function plural(noun: string): string {
  return noun.replace(/^(integer|number|string|object)\b/, '$1s');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** "/model/layers/3/kernelSize" -> "model.layers[3].kernelSize" */
export function pointerToField(pointer: string, prefix = ''): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = prefix;
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  return out || prefix || '(body)';
}

/** Finds the layer a pointer points into, e.g. "layer 3 (conv2d)" or "layer 4 (inception) branch 1 layer 0 (conv2d)". */
function layerContext(pointer: string, root: unknown): string | null {
  const parts = pointer.split('/').slice(1);
  let node: any = root;
  let context: string | null = null;
  for (let i = 0; i < parts.length; i++) {
    node = node?.[parts[i]];
    const isLayerIndex = /^\d+$/.test(parts[i]) && (parts[i - 1] === 'layers' || /^\d+$/.test(parts[i - 1] ?? '') && parts[i - 2] === 'branches');
    if (!isLayerIndex) continue;
    const type = node && typeof node === 'object' && typeof node.type === 'string' ? node.type : 'unknown type';
    const here = parts[i - 1] === 'layers' ? `layer ${parts[i]} (${type})` : `branch ${parts[i - 1]} layer ${parts[i]} (${type})`;
    context = context ? `${context} ${here}` : here;
  }
  return context;
}

/** Drops the per-branch noise ajv reports before an anyOf error. */
function pruneUnionNoise(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  return errors.filter(
    (e) => unions.includes(e) || !unions.some((u) => e.schemaPath.startsWith(u.schemaPath.replace(/\/(anyOf|oneOf)$/, '/$1/'))),
  );
}

/** Turns ajv errors into problems that name the field and say what is allowed. */
export function describeValidationErrors(errors: ErrorObject[], root: unknown, prefix = ''): FieldProblem[] {
  return pruneUnionNoise(errors).map((e) => {
    let pointer = e.instancePath;
    let message: string;
    const parent = e.parentSchema as Schema | undefined;
    switch (e.keyword) {
      case 'required':
        pointer += `/${(e.params as { missingProperty: string }).missingProperty}`;
        message = `is required${describeProperty(parent, (e.params as { missingProperty: string }).missingProperty)}`;
        break;
      case 'additionalProperties': {
        const name = (e.params as { additionalProperty: string }).additionalProperty;
        pointer += `/${name}`;
        const allowed = parent?.properties ? Object.keys(parent.properties).join(', ') : 'none';
        message = `is not an allowed field; allowed fields: ${allowed}`;
        break;
      }
      case 'discriminator': {
        const params = e.params as { error: string; tag: string; tagValue?: unknown };
        pointer += `/${params.tag}`;
        const allowed = (parent?.oneOf ?? []).map((s: Schema) => s.properties?.[params.tag]?.const).filter(Boolean);
        message =
          params.error === 'mapping'
            ? `${show(params.tagValue)} is not a known ${params.tag}; allowed: ${allowed.join(', ')}`
            : `is required; allowed: ${allowed.join(', ')}`;
        break;
      }
      case 'minLength':
      case 'maxLength':
      case 'pattern':
        // A schema can say in words what its string must be (`x-expected`), rather than quote a regular expression.
        if (typeof parent?.['x-expected'] === 'string') {
          message = `must be ${parent['x-expected']}, got ${show(e.data)}`;
          break;
        }
        message = `${e.message ?? 'is invalid'}, got ${show(e.data)}`;
        break;
      case 'minItems':
      case 'maxItems':
        message = `${e.message ?? 'is invalid'}, got ${show(e.data)}`;
        break;
      case 'format':
        message = `must be a ${(e.params as { format: string }).format === 'uuid' ? 'UUID' : (e.params as { format: string }).format}, got ${show(e.data)}`;
        break;
      default:
        message = `must be ${describeSchema(parent)}, got ${show(e.data)}`;
    }
    const field = pointerToField(pointer, prefix);
    const layer = layerContext(e.instancePath, root);
    const leaf = pointer.split('/').pop() ?? '';
    return { field, message: layer ? `${layer}: ${leaf} ${message}` : `${field} ${message}` };
  });
}

function describeProperty(parent: Schema | undefined, name: string): string {
  const prop = parent?.properties?.[name] as Schema | undefined;
  return prop ? ` (${describeSchema(prop)})` : '';
}
