/**
 * Environment variables are strings, so `port: ${SMPP_PORT}` arrives as "2775". A value
 * that came from interpolation is converted to a number or boolean when the schema expects
 * one there and the text is exactly such a literal; anything else is left for validation
 * to report. Values written directly in YAML are never converted.
 */
import type { TSchema } from 'typebox';
import type { PathSegment } from './config-path.js';

type SchemaNode = Record<string, unknown>;

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;
const NUMBER_TEXT = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

export function coerceSubstituted(tree: unknown, schema: TSchema, paths: readonly PathSegment[][]): void {
  for (const path of paths) {
    const last = path.at(-1);
    if (last === undefined) continue;
    const parent = valueAt(tree, path.slice(0, -1));
    const node = schemaAt(schema, path);
    if (parent === null || typeof parent !== 'object' || node === undefined) continue;
    const container = parent as Record<PathSegment, unknown>;
    const text = container[last];
    if (typeof text !== 'string') continue;
    const converted = convert(text, acceptedKinds(node));
    if (converted !== undefined) container[last] = converted;
  }
}

function convert(text: string, kinds: ReadonlySet<string>): number | boolean | undefined {
  if (kinds.has(`string-literal:${text}`)) return undefined;
  if (kinds.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  if (kinds.has('number') && NUMBER_TEXT.test(text)) return Number(text);
  if (kinds.has('integer') && INTEGER_TEXT.test(text)) return Number(text);
  return undefined;
}

/** Primitive kinds a schema accepts; string literals are listed so "3.4" stays a string where '3.4' is valid. */
function acceptedKinds(node: SchemaNode): Set<string> {
  const kinds = new Set<string>();
  const branches = Array.isArray(node.anyOf) ? (node.anyOf as SchemaNode[]) : [node];
  for (const branch of branches) {
    if (typeof branch.const === 'string') kinds.add(`string-literal:${branch.const}`);
    else if (typeof branch.const === 'number') kinds.add('number');
    else if (typeof branch.type === 'string') kinds.add(branch.type);
  }
  return kinds;
}

/** The schema of the value at a data path, descending through objects, arrays and unions. */
function schemaAt(schema: TSchema, path: readonly PathSegment[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema as SchemaNode;
  for (const segment of path) {
    if (node === undefined) return undefined;
    const wanted = typeof segment === 'number' ? 'array' : 'object';
    if (Array.isArray(node.anyOf))
      node = (node.anyOf as SchemaNode[]).find((branch) => branch.type === wanted);
    if (node === undefined) return undefined;
    if (wanted === 'array') node = node.items as SchemaNode | undefined;
    else {
      const properties = node.properties as Record<string, SchemaNode> | undefined;
      node = properties !== undefined && Object.hasOwn(properties, segment) ? properties[segment] : undefined;
    }
  }
  return node;
}

function valueAt(tree: unknown, path: readonly PathSegment[]): unknown {
  let node = tree;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}
