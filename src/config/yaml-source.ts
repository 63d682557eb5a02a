/**
 * YAML text → plain data, with syntax errors reported by line and column and a way to find
 * the line of any key path afterwards (so validation errors can point into the file).
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { ConfigIssue } from './config-error.js';
import type { PathSegment } from './config-path.js';

/** Guards against alias bombs ("billion laughs"); a config file needs few aliases. */
const MAX_ALIAS_COUNT = 100;

/** One syntax error tends to cascade; the first few are the ones worth reading. */
const MAX_SYNTAX_ERRORS = 5;
// biome-ignore lint/suspicious/noTemplateCurlyInString: the hint quotes a literal ${VAR}.
const FLOW_HINT = " (inside { } or [ ], quote a value that contains ${...}: '${VAR}')";

export interface YamlSource {
  /** The parsed document as plain data; undefined when it has syntax errors. */
  value: unknown;
  issues: ConfigIssue[];
  /** 1-based line of the key at `path`, or of its closest ancestor present in the file. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export function parseYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  // `merge: true` lets operators share settings with YAML merge keys (`<<: *common`).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const lines = text.split(/\r?\n/);
  const issues: ConfigIssue[] = doc.errors.slice(0, MAX_SYNTAX_ERRORS).map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    // `key: { port: ${PORT} }`: in flow style `{` opens a mapping, so the reference needs quotes.
    const hint =
      /[[{]/.test(lines[line - 1] ?? '') && (lines[line - 1] ?? '').includes('${') ? FLOW_HINT : '';
    return {
      path: '',
      line,
      message: `YAML syntax error at line ${line}, column ${col}: ${error.message}${hint}`,
    };
  });
  if (doc.errors.length > MAX_SYNTAX_ERRORS) {
    const more = doc.errors.length - MAX_SYNTAX_ERRORS;
    issues.push({ path: '', message: `... and ${more} more YAML syntax errors, often caused by the first` });
  }

  const lineOf = (path: readonly PathSegment[]): number | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined = (doc.contents as Node | null)?.range?.[0];
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
        );
        if (pair === undefined) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (item === undefined) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };

  let value: unknown;
  if (issues.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // The yaml package throws here for alias bombs and unresolvable aliases.
      issues.push({
        path: '',
        message: `YAML error: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  return { value, issues, lineOf };
}
