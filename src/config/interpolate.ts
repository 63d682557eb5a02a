/**
 * `${VAR}` and `${VAR:-default}` in config values, taken from the environment so secrets
 * stay out of the file. Substitution happens on parsed string values, never on the YAML
 * text, so an environment value cannot change the structure of the file (a password with
 * `: ` or `#` stays a password). `$${` is a literal `${`. A `$` not followed by `{` is kept.
 */
import type { PathSegment } from './config-path.js';

export type Env = Readonly<Record<string, string | undefined>>;

export type InterpolatedString = { ok: true; value: string } | { ok: false; message: string };

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Substitutes every reference in `text`. `${VAR:-default}` uses the default when VAR is unset
 * or empty (as in POSIX shells); `${VAR}` with VAR unset is an error naming VAR.
 */
export function interpolateString(text: string, env: Env): InterpolatedString {
  const missing: string[] = [];
  const malformed: string[] = [];
  const value = text.replace(REFERENCE, (match: string, body: string | undefined) => {
    if (match === '$${') return '${';
    if (body === undefined) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message quotes a literal "${".
      malformed.push('a "${" without its closing "}"');
      return match;
    }
    const separator = body.indexOf(':-');
    const name = separator === -1 ? body : body.slice(0, separator);
    if (!NAME.test(name)) {
      malformed.push(`"\${${body}}" (a variable name is letters, digits and '_', not starting with a digit)`);
      return match;
    }
    const fromEnv = env[name];
    if (separator !== -1)
      return fromEnv === undefined || fromEnv === '' ? body.slice(separator + 2) : fromEnv;
    if (fromEnv === undefined) {
      missing.push(name);
      return match;
    }
    return fromEnv;
  });
  if (malformed.length > 0) return { ok: false, message: `malformed reference: ${malformed.join('; ')}` };
  const unset = [...new Set(missing)];
  if (unset.length > 0) {
    const [variables, verb, pronoun] =
      unset.length === 1 ? ['variable', 'is', 'it'] : ['variables', 'are', 'them'];
    return {
      ok: false,
      message:
        `environment ${variables} ${unset.join(', ')} ${verb} not set; ` +
        `set ${pronoun}, or write \${${unset[0]}:-default} for a fallback`,
    };
  }
  return { ok: true, value };
}

export interface InterpolationResult {
  value: unknown;
  issues: { path: PathSegment[]; message: string }[];
  /** Paths of the string values that contained at least one reference. */
  substituted: PathSegment[][];
}

/** Interpolates every string value (not key) of a parsed config tree. */
export function interpolateTree(tree: unknown, env: Env): InterpolationResult {
  const result: InterpolationResult = { value: undefined, issues: [], substituted: [] };
  result.value = walk(tree, [], env, result);
  return result;
}

function walk(node: unknown, path: PathSegment[], env: Env, result: InterpolationResult): unknown {
  if (typeof node === 'string') {
    if (!node.includes('${')) return node;
    const interpolated = interpolateString(node, env);
    if (!interpolated.ok) {
      result.issues.push({ path, message: interpolated.message });
      return node;
    }
    result.substituted.push(path);
    return interpolated.value;
  }
  if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index], env, result));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      // defineProperty, not assignment: a `__proto__` key must stay a key (and be reported as unknown).
      Object.defineProperty(out, key, {
        value: walk(value, [...path, key], env, result),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return node;
}
