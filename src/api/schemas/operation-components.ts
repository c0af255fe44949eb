import { STATUS_CODES } from 'node:http';
import { canonicalJson as canonical } from '../../infra/canonical-json.js';
import { operationsOf } from './openapi-document.js';

/**
 * The parts that several operations of the OpenAPI document repeat, defined
 * once and referred to by `$ref`:
 *
 * - a parameter that two operations take alike goes to
 *   `components.parameters`, under the name `parameters` gives it;
 * - a success response or a request body that two operations have alike goes
 *   to `components.responses` or `components.requestBodies`, named after its
 *   schema (`Job`, `JobAccepted` for a 202, `NoContent` when it has none).
 *
 * Error responses are shared by their status beforehand (error-responses.ts)
 * and are left alone. Like the schema transform, it throws when the document
 * is not what it expects, e.g. a parameter repeated without a name, so that
 * the openapi test fails instead of publishing copies.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where a shared parameter is declared: an operation that takes it, and its name there. */
export type ParameterSource = readonly [operationId: string, parameter: string];

export interface OperationComponentsOptions {
  /** Parameters several operations take, named: each is found at its source, and every identical parameter refers to it. */
  parameters: Record<string, ParameterSource>;
}

const SCHEMA_REF = '#/components/schemas/';

/** `NoContent`, `Accepted`: the reason phrase of a status, as a component name. */
function reasonName(status: string): string {
  const reason = STATUS_CODES[status];
  if (!reason) throw new Error(`openapi: no reason phrase for status ${status}`);
  return reason
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .split(' ')
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase())
    .join('');
}

/** The component schema a response or request body carries, when it carries exactly one by `$ref`. */
function schemaName(holder: JsonObject): string | undefined {
  const media = isObject(holder.content) ? Object.values(holder.content) : [];
  if (media.length !== 1 || !isObject(media[0]) || !isObject(media[0].schema)) return undefined;
  const ref = media[0].schema.$ref;
  return typeof ref === 'string' && ref.startsWith(SCHEMA_REF) ? ref.slice(SCHEMA_REF.length) : undefined;
}

interface Place {
  where: string;
  value: JsonObject;
  replace: (ref: JsonObject) => void;
}

/** Places by the identity of what they hold, for the values that are not already `$ref`s. */
function groupByIdentity(places: Place[]): Map<string, Place[]> {
  const groups = new Map<string, Place[]>();
  for (const place of places) {
    if (typeof place.value.$ref === 'string') continue;
    const id = canonical(place.value);
    groups.set(id, [...(groups.get(id) ?? []), place]);
  }
  return groups;
}

function addComponents(doc: JsonObject, kind: string, added: Record<string, JsonObject>): void {
  if (Object.keys(added).length === 0) return;
  doc.components ??= {};
  const components = doc.components as JsonObject;
  const existing = (components[kind] ?? {}) as Record<string, Json>;
  for (const name of Object.keys(added)) if (name in existing) throw new Error(`openapi: components.${kind} already has ${name}`);
  const all: Record<string, Json> = { ...existing, ...added };
  components[kind] = Object.fromEntries(
    Object.keys(all)
      .sort()
      .map((name) => [name, all[name]]),
  );
}

function shareParameters(doc: JsonObject, named: Record<string, ParameterSource>): void {
  const places: Place[] = operationsOf(doc).flatMap(({ method, path, operation }) => {
    const list = (operation.parameters ?? []) as JsonObject[];
    return list.map((value, i) => ({ where: `${method.toUpperCase()} ${path} ${String(value.in)} ${String(value.name)}`, value, replace: (ref: JsonObject) => (list[i] = ref) }));
  });
  const groups = groupByIdentity(places);
  const byOperation = new Map(operationsOf(doc).map((op) => [op.operation.operationId, op.operation]));
  const added: Record<string, JsonObject> = {};
  const nameOf = new Map<string, string>();
  for (const [name, [operationId, parameter]] of Object.entries(named)) {
    const operation = byOperation.get(operationId);
    const found = ((operation?.parameters ?? []) as JsonObject[]).find((p) => p.name === parameter);
    if (!found) throw new Error(`openapi: parameter ${name}: ${operationId} has no parameter ${parameter}`);
    const id = canonical(found);
    if (nameOf.has(id)) throw new Error(`openapi: parameters ${nameOf.get(id)} and ${name} are the same parameter`);
    nameOf.set(id, name);
    added[name] = found;
  }
  for (const [id, group] of groups) {
    const name = nameOf.get(id);
    if (name) for (const place of group) place.replace({ $ref: `#/components/parameters/${name}` });
    else if (group.length > 1) {
      throw new Error(`openapi: the same parameter is declared by ${group.map((p) => p.where).join(', ')}: name it in OPENAPI_PARAMETERS`);
    }
  }
  addComponents(doc, 'parameters', added);
}

/** Shares the success responses and request bodies that two operations have alike, named after their schema. */
function shareByName(doc: JsonObject, kind: 'responses' | 'requestBodies', places: Place[], nameFor: (place: Place) => string): void {
  const added: Record<string, JsonObject> = {};
  for (const group of groupByIdentity(places).values()) {
    if (group.length < 2) continue;
    const name = nameFor(group[0]);
    if (name in added) throw new Error(`openapi: two different ${kind} would be named ${name}: ${group.map((p) => p.where).join(', ')}`);
    added[name] = group[0].value;
    for (const place of group) place.replace({ $ref: `#/components/${kind}/${name}` });
  }
  addComponents(doc, kind, added);
}

export function useOperationComponents<T extends object>(input: T, options: OperationComponentsOptions): T {
  const doc = input as unknown as JsonObject;
  shareParameters(doc, options.parameters);

  const operations = operationsOf(doc);
  const responses: Place[] = operations.flatMap(({ method, path, operation }) =>
    Object.entries((operation.responses ?? {}) as Record<string, JsonObject>).map(([status, value]) => ({
      where: `${method.toUpperCase()} ${path} ${status}`,
      value,
      replace: (ref: JsonObject) => ((operation.responses as JsonObject)[status] = ref),
    })),
  );
  shareByName(doc, 'responses', responses, ({ where, value }) => {
    const status = where.split(' ').pop() ?? '';
    if (value.content === undefined) return reasonName(status);
    const schema = schemaName(value);
    if (!schema) throw new Error(`openapi: ${where} repeats another operation's response: give its schema a title so that it can be named`);
    return status === '200' ? schema : `${schema}${reasonName(status)}`;
  });

  const bodies: Place[] = operations
    .filter(({ operation }) => isObject(operation.requestBody))
    .map(({ method, path, operation }) => ({
      where: `${method.toUpperCase()} ${path}`,
      value: operation.requestBody as JsonObject,
      replace: (ref: JsonObject) => (operation.requestBody = ref),
    }));
  shareByName(doc, 'requestBodies', bodies, ({ where, value }) => {
    const schema = schemaName(value);
    if (!schema) throw new Error(`openapi: ${where} repeats another operation's request body: give its schema a title so that it can be named`);
    return schema;
  });
  return input;
}
