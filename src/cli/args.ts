/**
 * What every command shares: one way to parse arguments (node's parseArgs, strict), one usage
 * error, and one exit-code convention. A command resolves to its exit code; only src/cli.ts
 * sets process.exitCode.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** 0 done; 1 the command ran and failed (cannot start, probe failed, shutdown failed); 2 bad command line or config. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A bad command line: the command prints the message (and where to find the usage) and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed values of `options`: strings for string options, booleans for switches. */
export type ParsedValues<O extends Options> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string;
};

/** The option named in a parseArgs message: `--config` from "Option '-c, --config <value>' ...". */
const quoted = (message: string): string => /'(?:-\w, )?(-{1,2}[^' =<]+)/.exec(message)?.[1] ?? '';

/**
 * Parses `argv` against `options` (no positionals; every option at most once) and throws
 * UsageError with a short message for anything else: `unknown option '--x'`, `--x needs a value`,
 * `--x takes no value`, `--x given twice`, `unexpected argument 'y'`.
 */
export function parseCommandArgs<O extends Options>(argv: readonly string[], options: O): ParsedValues<O> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    const e = error as Error & { code?: string };
    switch (e.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`unknown option '${quoted(e.message)}'`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`unexpected argument '${/'([^']*)'/.exec(e.message)?.[1] ?? ''}'`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const flag = quoted(e.message).replace(/=.*/, '');
        throw new UsageError(
          /does not take an argument/.test(e.message) ? `${flag} takes no value` : `${flag} needs a value`,
        );
      }
      default:
        throw new UsageError(e.message);
    }
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} given twice`);
    seen.add(token.name);
  }
  return parsed.values as ParsedValues<O>;
}
