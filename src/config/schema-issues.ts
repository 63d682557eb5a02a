/**
 * Runs a TypeBox schema over the config tree and turns its errors into issues an operator
 * can act on: the key path, what was expected (from the schema's `expected` wording or its
 * type and bounds) and what was found. Union errors are folded into one message, unknown
 * keys get a "did you mean" and every error is reported, not only the first.
 */
import type { TSchema } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { Settings } from 'typebox/system';
import { Value } from 'typebox/value';
import { redactUrlPassword } from '../store/postgres-url.js';
import { formatPath, type PathSegment, pointerToPath } from './config-path.js';
import { isSecretKey, REDACTED } from './redact.js';
import { suggestKey } from './suggest.js';

export interface PathIssue {
  path: PathSegment[];
  message: string;
}

/** Upper bound on the errors TypeBox collects per run (its default of 8 would hide problems). */
const MAX_SCHEMA_ERRORS = 500;
/** Up to this many known keys are listed when an unknown key has no close match. */
const MAX_LISTED_KEYS = 12;

type SchemaNode = Record<string, unknown>;

export function schemaIssues(schema: TSchema, value: unknown): PathIssue[] {
  const errors = collectErrors(schema, value);
  const kept = foldUnions(schema, value, errors);
  const issues: PathIssue[] = [];
  const seen = new Set<string>();
  for (const error of kept) {
    for (const issue of describeError(schema, value, error)) {
      const key = `${formatPath(issue.path)}\n${issue.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function collectErrors(schema: TSchema, value: unknown): TLocalizedValidationError[] {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: MAX_SCHEMA_ERRORS });
  try {
    return Value.Errors(schema, value);
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

const isUnder = (pointer: string, prefix: string): boolean =>
  pointer === prefix || pointer.startsWith(`${prefix}/`);

/**
 * TypeBox reports a failed union as one error per branch plus an `anyOf` error. When the
 * value has the JSON type of exactly one structured branch (say `tls:` is a mapping), the
 * errors inside that branch are the useful ones; otherwise one "expected X or Y" is.
 */
function foldUnions(
  schema: TSchema,
  root: unknown,
  errors: readonly TLocalizedValidationError[],
): TLocalizedValidationError[] {
  const dropped = new Set<TLocalizedValidationError>();
  const unions = errors
    .filter((error) => error.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (dropped.has(union)) continue;
    const branches = (schemaAt(schema, union.schemaPath)?.anyOf ?? []) as SchemaNode[];
    const value = valueAt(root, union.instancePath);
    const matching = branches.flatMap((branch, index) => (kindMatches(branch, value) ? [index] : []));
    const chosen =
      matching.length === 1 && isStructured(branches[matching[0] ?? -1]) ? matching[0] : undefined;
    for (const error of errors) {
      if (error === union || !isUnder(error.instancePath, union.instancePath)) continue;
      const branch = error.schemaPath.startsWith(`${union.schemaPath}/anyOf/`)
        ? Number(error.schemaPath.slice(union.schemaPath.length + 7).split('/')[0])
        : undefined;
      if (branch !== undefined && branch !== chosen) dropped.add(error);
    }
    if (chosen !== undefined) dropped.add(union);
  }
  return errors.filter((error) => !dropped.has(error));
}

function isStructured(branch: SchemaNode | undefined): boolean {
  return branch?.type === 'object' || branch?.type === 'array';
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function kindMatches(branch: SchemaNode, value: unknown): boolean {
  const kind = jsonKind(value);
  if (branch.type === 'integer') return kind === 'number';
  return branch.type === kind;
}

function describeError(schema: TSchema, root: unknown, error: TLocalizedValidationError): PathIssue[] {
  const path = pointerToPath(error.instancePath, root);
  const node = schemaAt(schema, error.schemaPath) ?? {};
  switch (error.keyword) {
    case 'boolean':
      // `additionalProperties: false` failing for one key; the `additionalProperties` error reports it.
      return [];
    case 'additionalProperties': {
      const known = Object.keys((node.properties ?? {}) as SchemaNode);
      return error.params.additionalProperties.map((key) => ({
        path: [...path, key],
        message: unknownKeyMessage(key, known),
      }));
    }
    case 'required': {
      const properties = (node.properties ?? {}) as Record<string, SchemaNode>;
      return error.params.requiredProperties.map((key) => ({
        path: [...path, key],
        message: `required key is missing; expected ${describeSchema(properties[key] ?? {})}`,
      }));
    }
    default: {
      const value = valueAt(root, error.instancePath);
      const quoteHint =
        node.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? ' (quote it in YAML to keep it a string)'
          : '';
      const got = showValue(value, isSecretKey(path.at(-1) ?? ''));
      return [{ path, message: `expected ${describeSchema(node)}, got ${got}${quoteHint}` }];
    }
  }
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = suggestKey(key, known);
  if (suggestion !== undefined) return `unknown key; did you mean "${suggestion}"?`;
  if (known.length === 0) return 'unknown key; this section takes no keys';
  if (known.length <= MAX_LISTED_KEYS) return `unknown key; expected one of ${known.join(', ')}`;
  return 'unknown key; config/example.yaml lists every key';
}

/** Human wording of what a schema accepts. */
export function describeSchema(node: SchemaNode): string {
  if (typeof node.expected === 'string') return node.expected;
  if (Array.isArray(node.anyOf)) {
    const branches = node.anyOf as SchemaNode[];
    if (branches.every((branch) => 'const' in branch)) {
      return `one of ${branches.map((branch) => showConst(branch.const)).join(', ')}`;
    }
    return branches.map(describeSchema).join(' or ');
  }
  if ('const' in node) return showConst(node.const);
  switch (node.type) {
    case 'integer':
    case 'number':
      return `${node.type === 'integer' ? 'an integer' : 'a number'}${describeRange(node.minimum, node.maximum)}`;
    case 'string': {
      const min = typeof node.minLength === 'number' ? node.minLength : 0;
      const max = node.maxLength;
      if (typeof max === 'number')
        return `a string of ${min > 0 ? `${min} to ${max}` : `at most ${max}`} characters`;
      if (typeof node.pattern === 'string') return `a string matching /${node.pattern}/`;
      return min > 0 ? 'a non-empty string' : 'a string';
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return `a list of ${plural(describeSchema((node.items ?? {}) as SchemaNode))}`;
    case 'object':
      return 'a mapping';
    default:
      return 'a value';
  }
}

function describeRange(minimum: unknown, maximum: unknown): string {
  const min = typeof minimum === 'number' ? minimum : undefined;
  const max = typeof maximum === 'number' ? maximum : undefined;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** "a mapping" → "mappings", "an integer from 0 to 255" → "integers from 0 to 255". */
function plural(description: string): string {
  const match = /^an? (\w+)(.*)$/.exec(description);
  if (match === null) return description;
  const noun = match[1] ?? '';
  return `${noun.endsWith('s') ? noun : `${noun}s`}${match[2] ?? ''}`;
}

function showConst(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

const MAX_SHOWN_CHARS = 60;

/** What was found, as a short YAML-ish rendering; a secret's value is never shown. */
export function showValue(value: unknown, secret: boolean): string {
  const kind = jsonKind(value);
  if (kind === 'array') return 'a list';
  if (kind === 'object') return 'a mapping';
  if (kind === 'null') return 'null';
  if (secret) return kind === 'number' ? 'a number' : kind === 'boolean' ? 'a boolean' : 'a string';
  if (typeof value === 'string') {
    const text = redactUrlPassword(value, REDACTED);
    const shown = text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
    return JSON.stringify(shown);
  }
  return String(value);
}

/** The schema node a TypeBox `schemaPath` (`#/properties/binds/items/...`) points at. */
function schemaAt(schema: TSchema, schemaPath: string): SchemaNode | undefined {
  let node: unknown = schema;
  const pointer = schemaPath.replace(/^#/, '');
  if (pointer === '') return node as SchemaNode;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== null && typeof node === 'object' ? (node as SchemaNode) : undefined;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const segment of pointerToPath(pointer, root)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PathSegment, unknown>)[segment];
  }
  return node;
}
