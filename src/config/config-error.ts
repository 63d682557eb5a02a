/**
 * The one error the config layer throws: every problem found in the file and the
 * environment, each with the path of the offending key, listed together so an
 * operator fixes them in one pass.
 */
import { ErrorCode, SmppError } from '../errors.js';

export interface ConfigIssue {
  /** Where the problem is: a key path like `binds[0].port`, `env.PORT`, or '' for the file itself. */
  path: string;
  message: string;
  /** 1-based line in the config file, when the problem can be located there. */
  line?: number;
}

export class ConfigError extends SmppError {
  readonly issues: readonly ConfigIssue[];
  /** The file the issues are about, if any. */
  readonly source: string | undefined;

  constructor(issues: readonly ConfigIssue[], source?: string, options: { cause?: unknown } = {}) {
    super(ErrorCode.Config, formatConfigIssues(issues, source), options);
    this.issues = issues;
    this.source = source;
  }
}

/** One line per issue under a heading, e.g. `  binds[0].port (line 7): expected ...`; file-wide issues have no path. */
export function formatConfigIssues(issues: readonly ConfigIssue[], source?: string): string {
  const where = source === undefined ? 'Invalid configuration' : `Invalid configuration in ${source}`;
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const lines = issues.map((issue) => {
    if (issue.path === '') return `  ${issue.message}`;
    const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
    return `  ${issue.path}${line}: ${issue.message}`;
  });
  return [`${where} (${count}):`, ...lines].join('\n');
}
