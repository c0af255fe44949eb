import { STATUS_CODES } from 'node:http';
import { canonicalJson as canonical } from '../../infra/canonical-json.js';

/**
 * Turns the document @fastify/swagger builds from the route schemas into a
 * valid, typed OpenAPI 3.1 document. Validation keeps using the TypeBox
 * schemas unchanged (ajv, draft-07 with ajv's `discriminator`); only the
 * published description is rewritten:
 *
 * - draft-07 tuples (`items: [...]` + `additionalItems`) become 2020-12
 *   `prefixItems`, which OpenAPI 3.1 requires;
 * - `if / then / else` (used so that ajv reports a mistake against one form
 *   only) becomes `oneOf: [then, else]`, which generators can type;
 * - shared schemas become named `components.schemas` referenced by `$ref`:
 *   every schema with a `title`, and the untitled ones named in `components`
 *   (also where a use gives one its own description or default, which stays
 *   beside the `$ref`);
 * - a `oneOf` + `discriminator` of `$ref`s gets its `mapping`;
 * - query parameters that have a default are not required;
 * - responses without a description are described by their status text.
 *
 * Pure: a document in, a new document out. It throws when the document is
 * not what it expects (an operation without operationId, two different
 * schemas under one name, a named schema that never appears), so that a
 * route or schema change that breaks the published contract fails the
 * openapi test rather than shipping silently.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
export type Schema = JsonObject;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords whose value is a schema, a list of schemas, or a map of schemas. */
const SUBSCHEMA = ['additionalProperties', 'additionalItems', 'items', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties'];
const SUBSCHEMA_LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SUBSCHEMA_MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/** A copy of `schema` with `fn` applied to each direct subschema (never to examples, defaults or enums, which are data). */
function mapSubschemas(schema: Schema, fn: (s: Schema) => Json): Schema {
  const out: Schema = { ...schema };
  for (const key of SUBSCHEMA) if (isObject(schema[key])) out[key] = fn(schema[key] as Schema);
  for (const key of SUBSCHEMA_LIST) if (Array.isArray(schema[key])) out[key] = (schema[key] as Json[]).map((s) => (isObject(s) ? fn(s) : s));
  for (const key of SUBSCHEMA_MAP) {
    if (!isObject(schema[key])) continue;
    out[key] = Object.fromEntries(Object.entries(schema[key] as JsonObject).map(([k, s]) => [k, isObject(s) ? fn(s) : s]));
  }
  return out;
}

/** Applies `fn` bottom-up to every schema in the tree. */
function rewriteDeep(schema: Schema, fn: (s: Schema) => Schema): Schema {
  return fn(mapSubschemas(schema, (s) => rewriteDeep(s, fn)));
}

/** JSON Schema 2020-12 forms of the draft-07 keywords TypeBox and the route schemas use. */
function toDraft2020(schema: Schema): Schema {
  let out = schema;
  if (Array.isArray(out.items)) {
    const { items, additionalItems, ...rest } = out;
    out = { ...rest, prefixItems: items };
    if (additionalItems === false) out.items = false;
    else if (isObject(additionalItems)) out.items = additionalItems;
  }
  if (out.if !== undefined && out.then !== undefined && out.else !== undefined) {
    const { if: condition, then, else: otherwise, ...rest } = out;
    // Only the form "if it has key K, then A, else B" is rewritten: A requires K and B must not allow it, so exactly one matches.
    const key = isObject(condition) && Array.isArray(condition.required) && condition.required.length === 1 ? condition.required[0] : undefined;
    if (typeof key !== 'string' || !isObject(then) || !(then.required as Json[] | undefined)?.includes(key) || rest.oneOf !== undefined) {
      throw new Error(`openapi: cannot document an if/then/else other than "has key K": ${JSON.stringify(condition)}`);
    }
    out = { ...rest, oneOf: [then, otherwise] };
  }
  return out;
}

/**
 * What @fastify/swagger does to a route schema (its `convertJsonSchemaToOpenapi3`
 * with `convertConstToEnum`), so that a TypeBox schema can be recognised in the
 * document it built. A drift is caught: a named schema that is never found throws.
 */
export function asSwaggerEmitsIt(value: unknown): Json {
  const json = JSON.parse(JSON.stringify(value)) as Json;
  const convert = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(convert);
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const [key, inner] of Object.entries(v)) {
      if (key === '$id' || key === '$schema' || key === 'definitions') continue;
      if (key === 'const') out.enum = [convert(inner)];
      else if (key === 'patternProperties' && isObject(inner)) out.additionalProperties = convert(Object.values(inner)[0] ?? {});
      else out[key] = convert(inner);
    }
    return out;
  };
  return convert(json);
}

/** Stable text of a schema for comparison; examples at its top are moved to the media type by @fastify/swagger, so they do not count. */
function identity(schema: Schema): string {
  const { examples: _examples, example: _example, ...rest } = schema;
  return canonical(rest);
}

/**
 * What a use of a listed schema may say for itself next to its `$ref` (JSON
 * Schema 2020-12 allows siblings of `$ref`) when the listed schema does not
 * say it: the enum of activations is "Activation. Default `linear`." on a
 * dense layer and has no default on an activation layer.
 */
const USE_ANNOTATIONS = ['description', 'default'] as const;

/** The identity of a schema without the annotations a use may have its own of. */
function coreIdentity(schema: Schema): string {
  const { description: _description, default: _default, ...rest } = schema;
  return identity(rest);
}

const REF_PREFIX = '#/components/schemas/';

interface Listed {
  name: string;
  /** The annotations the listed schema has: a use must have the same; the others it may have stay beside its `$ref`. */
  fixed: Partial<Record<(typeof USE_ANNOTATIONS)[number], string>>;
}

class ComponentHoister {
  readonly components: Record<string, Schema> = {};
  private readonly identities = new Map<string, string>();
  private readonly listed = new Map<string, Listed>();

  constructor(named: Record<string, Schema>) {
    for (const [name, schema] of Object.entries(named)) {
      const id = coreIdentity(schema);
      const other = this.listed.get(id);
      if (other) throw new Error(`openapi: components ${other.name} and ${name} are the same schema`);
      if (typeof schema.title === 'string' && schema.title !== name) throw new Error(`openapi: component ${name} is titled ${schema.title}`);
      const fixed: Listed['fixed'] = {};
      for (const key of USE_ANNOTATIONS) if (schema[key] !== undefined) fixed[key] = canonical(schema[key]);
      this.listed.set(id, { name, fixed });
    }
  }

  /** The listed schema `schema` is a use of, if any. */
  private listedAs(schema: Schema): Listed | undefined {
    const listed = this.listed.get(coreIdentity(schema));
    const matches = (key: (typeof USE_ANNOTATIONS)[number]) => listed?.fixed[key] === undefined || (schema[key] !== undefined && canonical(schema[key]) === listed.fixed[key]);
    return listed && USE_ANNOTATIONS.every(matches) ? listed : undefined;
  }

  /** `schema` with every named subschema replaced by a `$ref` (the root too, unless it is the definition itself). */
  hoist(schema: Schema, isDefinition = false): Schema {
    if (isDefinition) return mapSubschemas(schema, (s) => this.hoist(s));
    const listed = this.listedAs(schema);
    if (listed) {
      const ref: Schema = { $ref: `${REF_PREFIX}${listed.name}` };
      const definition: Schema = { ...schema };
      for (const key of USE_ANNOTATIONS) {
        if (listed.fixed[key] !== undefined || schema[key] === undefined) continue;
        ref[key] = schema[key];
        delete definition[key];
      }
      this.define(listed.name, definition, coreIdentity(schema));
      return ref;
    }
    if (typeof schema.title === 'string') {
      this.define(schema.title, schema, identity(schema));
      return { $ref: `${REF_PREFIX}${schema.title}` };
    }
    return mapSubschemas(schema, (s) => this.hoist(s));
  }

  private define(name: string, schema: Schema, id: string): void {
    const known = this.identities.get(name);
    if (known !== undefined) {
      if (known !== id) throw new Error(`openapi: two different schemas are named ${name}; give one another title`);
      return;
    }
    this.identities.set(name, id);
    this.components[name] = {}; // reserved first: a schema may contain itself
    const { examples, ...rest } = schema;
    this.components[name] = { ...this.hoist(rest, true), ...(examples === undefined ? {} : { examples }) };
  }
}

/** `discriminator.mapping` for a `oneOf` of `$ref`s whose targets fix the discriminating property to one value. */
function addDiscriminatorMappings(schema: Schema, components: Record<string, Schema>): Schema {
  return rewriteDeep(schema, (s) => {
    if (!isObject(s.discriminator) || !Array.isArray(s.oneOf)) return s;
    const property = s.discriminator.propertyName as string;
    const mapping: Record<string, string> = {};
    for (const branch of s.oneOf) {
      const ref = isObject(branch) && typeof branch.$ref === 'string' ? branch.$ref : undefined;
      const target = ref?.startsWith(REF_PREFIX) ? components[ref.slice(REF_PREFIX.length)] : undefined;
      const tag = (target?.properties as JsonObject | undefined)?.[property] as Schema | undefined;
      const values = Array.isArray(tag?.enum) && tag.enum.length === 1 ? tag.enum : undefined;
      if (!ref || !values) throw new Error(`openapi: a discriminated oneOf needs named branches with a fixed ${property}: ${JSON.stringify(branch).slice(0, 120)}`);
      mapping[String(values[0])] = ref;
    }
    return { ...s, discriminator: { ...s.discriminator, mapping } };
  });
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface Operation {
  method: string;
  path: string;
  operation: JsonObject;
}

export function operationsOf(doc: JsonObject): Operation[] {
  return Object.entries((doc.paths ?? {}) as JsonObject).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => isObject((item as JsonObject)[m])).map((method) => ({ method, path, operation: (item as JsonObject)[method] as JsonObject })),
  );
}

export interface DocumentTransformOptions {
  /** Untitled shared schemas to publish under these names (titled ones are named by their title). */
  components: Record<string, unknown>;
}

/** Applies `fn` to every schema of the document: components, parameters, request bodies and responses. */
function eachSchema(doc: JsonObject, fn: (s: Schema) => Schema): void {
  const components = doc.components as JsonObject | undefined;
  if (isObject(components?.schemas)) {
    components.schemas = Object.fromEntries(Object.entries(components.schemas).map(([k, s]) => [k, fn(s as Schema)]));
  }
  for (const { operation } of operationsOf(doc)) {
    for (const parameter of (operation.parameters ?? []) as JsonObject[]) if (isObject(parameter.schema)) parameter.schema = fn(parameter.schema);
    const bodies = [operation.requestBody, ...Object.values((operation.responses ?? {}) as JsonObject)];
    for (const holder of bodies) {
      if (!isObject(holder) || !isObject(holder.content)) continue;
      for (const media of Object.values(holder.content)) if (isObject(media) && isObject(media.schema)) media.schema = fn(media.schema);
    }
  }
}

export function transformOpenApiDocument(input: object, options: DocumentTransformOptions): JsonObject {
  const doc = JSON.parse(JSON.stringify(input)) as JsonObject;
  const toPublished = (s: Schema) => rewriteDeep(s, toDraft2020);

  const named = Object.fromEntries(Object.entries(options.components).map(([name, s]) => [name, toPublished(asSwaggerEmitsIt(s) as Schema)]));
  const hoister = new ComponentHoister(named);
  eachSchema(doc, (s) => hoister.hoist(toPublished(s)));

  const missing = Object.keys(named).filter((name) => !(name in hoister.components));
  if (missing.length) throw new Error(`openapi: named schemas not found in the document: ${missing.join(', ')}`);

  doc.components ??= {};
  const components = doc.components as JsonObject;
  const existing = (components.schemas ?? {}) as Record<string, Schema>;
  const all: Record<string, Schema> = { ...existing, ...hoister.components };
  components.schemas = Object.fromEntries(
    Object.keys(all)
      .sort()
      .map((name) => [name, addDiscriminatorMappings(all[name], all)]),
  );
  eachSchema(doc, (s) => addDiscriminatorMappings(s, all));

  const ids = new Map<string, string>();
  for (const op of operationsOf(doc)) {
    const where = `${op.method.toUpperCase()} ${op.path}`;
    const id = op.operation.operationId;
    if (typeof id !== 'string' || !/^[a-z][A-Za-z0-9]*$/.test(id)) throw new Error(`openapi: ${where} needs a camelCase operationId in its route schema`);
    if (ids.has(id)) throw new Error(`openapi: operationId ${id} is used by ${ids.get(id)} and ${where}`);
    ids.set(id, where);
    // @fastify/swagger's placeholder for a response schema without a description: say what the status means instead.
    for (const [status, response] of Object.entries((op.operation.responses ?? {}) as Record<string, JsonObject>)) {
      if (response.description === 'Default Response') response.description = STATUS_CODES[status] ?? status;
    }
    // A query parameter with a default may be left out: the server fills it in.
    for (const parameter of (op.operation.parameters ?? []) as JsonObject[]) {
      if (parameter.in === 'query' && isObject(parameter.schema) && parameter.schema.default !== undefined) delete parameter.required;
    }
  }
  return doc;
}
