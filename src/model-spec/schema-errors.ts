/**
 * The one renderer of JSON Schema violations, whichever validator found
 * them: ajv (API requests) or TypeBox (model and training specs, stored JSON
 * columns, configuration). Each caller adapts its library's errors to
 * {@link SchemaViolation} and gets back the field at fault and what is wrong
 * with it, said the same way everywhere. Imports nothing, so any module may
 * use it.
 */

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema of any shape, walked by keyword
type Schema = Record<string | symbol, any>;

/** One violation, in the shape both ajv and TypeBox nearly report. */
export interface SchemaViolation {
  /** JSON pointer of the value that failed. */
  instancePath: string;
  /** JSON pointer of `schema` in the validated schema: tells a union's own error from its branches'. */
  schemaPath: string;
  keyword: string;
  /** ajv's names: `missingProperty`, `additionalProperty`, `allowedValues`, `limit`, ... */
  params: Record<string, unknown>;
  /** The schema that holds `keyword`. */
  schema: Schema | undefined;
}

export interface SchemaProblem {
  /** Path of the field at fault; for a missing or unknown field, that field rather than the object holding it. */
  path: string[];
  /** What is wrong, to follow the field's name: `must be an integer from 1 to 4096, got 0`. */
  complaint: string;
}

/**
 * What a schema's value must be, in words, for schemas whose rules read
 * badly when spelled out (a union of forms, a pattern). A symbol, so that
 * it stays out of JSON (the OpenAPI document) and out of a strict ajv's way;
 * spread `expects(words)` into a TypeBox schema's options. `x-expected` says
 * the same where the words should also be published.
 */
const EXPECTED = Symbol('expected');

export function expects(words: string): { [EXPECTED]: string } {
  return { [EXPECTED]: words };
}

/** Turns violations into problems, dropping the echoes of a failed union or if/then/else. */
export function describeViolations(violations: SchemaViolation[], root: unknown): SchemaProblem[] {
  const unions = violations.filter((v) => v.keyword === 'anyOf' || v.keyword === 'oneOf').map((v) => `${v.schemaPath}/${v.keyword}/`);
  const own = violations.filter((v) => v.keyword !== 'if' && !unions.some((prefix) => v.schemaPath.startsWith(prefix)));
  return (own.length ? own : violations).map((v) => describeViolation(v, root));
}

function describeViolation(v: SchemaViolation, root: unknown): SchemaProblem {
  const path = pointerSegments(v.instancePath);
  const p = v.params;
  const value = valueAt(root, path);
  const got = `, got ${show(value)}`;
  const expected = expectedOf(v.schema);
  switch (v.keyword) {
    case 'required': {
      const name = String(p.missingProperty);
      const what = describeSchema(v.schema?.properties?.[name]);
      // "(an object)" would tell nothing; the field's own checks say more once it is there.
      const hint = what === 'an object' || what === 'a valid value' ? '' : ` (${what})`;
      return { path: [...path, name], complaint: `is required${hint}` };
    }
    case 'additionalProperties': {
      const allowed = Object.keys(v.schema?.properties ?? {});
      return {
        path: [...path, String(p.additionalProperty)],
        complaint: `is not an allowed field; allowed fields: ${allowed.length ? allowed.join(', ') : 'none'}`,
      };
    }
    case 'discriminator': {
      const tag = String(p.tag);
      const allowed = ((v.schema?.oneOf ?? []) as Schema[])
        .map((s) => s.properties?.[tag]?.const)
        .filter(Boolean)
        .join(', ');
      const complaint = p.error === 'mapping' ? `${show(p.tagValue)} is not a known ${tag}; allowed: ${allowed}` : `is required; allowed: ${allowed}`;
      return { path: [...path, tag], complaint };
    }
    case 'minItems':
      return { path, complaint: `must have at least ${count(Number(p.limit), 'item')}${got}` };
    case 'maxItems':
      return { path, complaint: `must have at most ${count(Number(p.limit), 'item')}, got ${Array.isArray(value) ? value.length : show(value)}` };
    case 'minLength':
    case 'maxLength':
    case 'pattern': {
      if (expected !== undefined) return { path, complaint: `must be ${expected}${got}` };
      if (v.keyword === 'pattern') return { path, complaint: `must match pattern ${show(String(p.pattern))}${got}` };
      if (v.keyword === 'minLength') return { path, complaint: `must have at least ${count(Number(p.limit), 'character')}${got}` };
      return { path, complaint: `must have at most ${count(Number(p.limit), 'character')}, got ${typeof value === 'string' ? value.length : show(value)}` };
    }
    case 'format':
      return { path, complaint: `must be ${p.format === 'uuid' ? 'a UUID' : `a ${String(p.format)} string`}${got}` };
    default:
      // type, enum, const, minimum, maximum, multipleOf, anyOf, oneOf: say everything the value may be.
      return { path, complaint: `must be ${describeSchema(v.schema)}${got}` };
  }
}

function expectedOf(schema: Schema | undefined): string | undefined {
  const words = schema?.[EXPECTED] ?? schema?.['x-expected'];
  return typeof words === 'string' ? words : undefined;
}

/** "an integer from 1 to 4096", `one of "same", "valid"`: what a value of this schema may be. */
export function describeSchema(schema: Schema | undefined): string {
  if (!schema || typeof schema !== 'object') return 'a valid value';
  const expected = expectedOf(schema);
  if (expected !== undefined) return expected;
  if ('const' in schema) return show(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(show).join(', ')}`;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return [...new Set(alternatives.map((s: Schema) => describeSchema(s)))].join(' or ');
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const noun = schema.type === 'integer' ? 'an integer' : 'a number';
      const lo = schema.minimum;
      const hi = schema.maximum;
      if (typeof lo === 'number' && typeof hi === 'number') return `${noun} from ${lo} to ${hi}`;
      const bounds = [
        typeof lo === 'number' ? `≥ ${lo}` : typeof schema.exclusiveMinimum === 'number' ? `> ${schema.exclusiveMinimum}` : undefined,
        typeof hi === 'number' ? `≤ ${hi}` : typeof schema.exclusiveMaximum === 'number' ? `< ${schema.exclusiveMaximum}` : undefined,
      ].filter(Boolean);
      return bounds.length ? `${noun} ${bounds.join(' and ')}` : noun;
    }
    case 'string':
      return schema.format === 'uuid' ? 'a UUID' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'object':
      return 'an object';
    case 'array': {
      const tuple: Schema[] | null = Array.isArray(schema.prefixItems) ? schema.prefixItems : Array.isArray(schema.items) ? schema.items : null;
      if (tuple) {
        const kinds = tuple.map((s) => describeSchema(s).replace(/^an? /, ''));
        const first = kinds[0]?.split(' ')[0];
        return kinds.every((k) => k.split(' ')[0] === first) ? `a list of ${count(kinds.length, first ?? 'value')}` : `a list [${kinds.join(', ')}]`;
      }
      const item = schema.items ? describeSchema(schema.items) : 'a valid value';
      if (item === 'a valid value') return 'a list';
      const noun = item.replace(/^an? /, '');
      if (schema.minItems !== undefined && schema.minItems === schema.maxItems) return `a list of ${count(schema.minItems, noun)}`;
      return `a list of ${plural(noun)}`;
    }
    default:
      return 'a valid value';
  }
}

function plural(noun: string): string {
  return noun.replace(/^(integer|number|string|object|item|character|value)\b/, '$1s');
}

function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : plural(noun)}`;
}

/** A value as JSON (as the client wrote it), spaced after commas and cut at 60 characters. */
export function show(value: unknown): string {
  const text = spaced(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function spaced(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `[${value.map(spaced).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${spaced(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

/** `/layers/3/kernelSize` → `['layers', '3', 'kernelSize']`. */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `['layers', '3', 'kernelSize']` → `/layers/3/kernelSize`. */
export function toPointer(path: string[]): string {
  return path.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** `['layers', '3', 'kernelSize']` → `layers[3].kernelSize`; `prefix` names the document (`model`, `query`). */
export function fieldName(path: string[], prefix = ''): string {
  let out = prefix;
  for (const s of path) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function valueAt(root: unknown, path: string[]): unknown {
  let node = root;
  for (const s of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}

interface TypeBoxError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: object;
}

/**
 * TypeBox's errors as violations. TypeBox points `schemaPath` at the schema
 * holding the keyword, lists every missing or unknown field in one error,
 * and reports an item past a tuple's end as a `boolean` error on that item;
 * its `boolean` error for an unknown field echoes the `additionalProperties`
 * error, which names the field.
 */
export function typeboxViolations(schema: object, errors: Iterable<TypeBoxError>): SchemaViolation[] {
  const schemaAt = (path: string) => valueAt(schema, pointerSegments(path)) as Schema | undefined;
  const seen = new Set<string>();
  return [...errors].flatMap((e): SchemaViolation[] => {
    const params = e.params as Record<string, unknown>;
    const base = { instancePath: e.instancePath, schemaPath: e.schemaPath, keyword: e.keyword, schema: schemaAt(e.schemaPath), params };
    if (e.keyword === 'required') return (params.requiredProperties as string[]).map((missingProperty) => ({ ...base, params: { missingProperty } }));
    if (e.keyword === 'additionalProperties') return (params.additionalProperties as string[]).map((additionalProperty) => ({ ...base, params: { additionalProperty } }));
    if (e.keyword !== 'boolean') return [base];
    if (e.schemaPath.endsWith('/additionalProperties')) return [];
    if (!e.schemaPath.endsWith('/additionalItems')) return [base];
    const tuple = { ...base, keyword: 'additionalItems', schemaPath: e.schemaPath.replace(/\/additionalItems$/, ''), instancePath: e.instancePath.replace(/\/[^/]*$/, '') };
    if (seen.has(tuple.instancePath)) return [];
    seen.add(tuple.instancePath);
    return [{ ...tuple, schema: schemaAt(tuple.schemaPath) }];
  });
}
