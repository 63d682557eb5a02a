/**
 * What every command shares: one way to parse arguments (node's parseArgs, strict), one usage
 * error, and one exit-code convention. A command resolves to its exit code; only src/cli.ts
 * sets process.exitCode.
 */
import { readFile } from 'node:fs/promises';
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

/** What a client command takes from its caller: tests pass their own streams, env and stop signal. */
export interface ClientCommandDeps {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Stops the run early, like SIGINT (which is listened to when this is not given). */
  signal?: AbortSignal;
}

export interface ClientCommandContext<A> {
  args: A;
  /** The --tls-ca file's contents, when one was given. */
  ca: Buffer | undefined;
  signal: AbortSignal;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * The frame the commands that talk to an SMSC (probe, loadtest) run in: the command line parsed
 * (a UsageError prints the message and exits 2), --help, the --tls-ca file read (unreadable: exit 2),
 * and SIGINT as an early stop (the run still prints its summary) unless the caller brings its own
 * signal. `run` resolves to the exit code.
 */
export async function runClientCommand<A extends { help: boolean; tlsCaFile?: string | undefined }>(
  name: string,
  usage: string,
  argv: readonly string[],
  deps: ClientCommandDeps,
  parse: (argv: readonly string[], env: NodeJS.ProcessEnv) => A,
  run: (context: ClientCommandContext<A>) => Promise<number>,
): Promise<number> {
  const out = deps.stdout ?? ((t: string) => process.stdout.write(t));
  const err = deps.stderr ?? ((t: string) => process.stderr.write(t));
  let args: A;
  try {
    args = parse(argv, deps.env ?? process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`${name}: ${error.message}\nrun 'smpp-bridge ${name} --help' for the options\n`);
    return ExitCode.Usage;
  }
  if (args.help) {
    out(`${usage}\n`);
    return ExitCode.Ok;
  }
  let ca: Buffer | undefined;
  if (args.tlsCaFile !== undefined) {
    try {
      ca = await readFile(args.tlsCaFile);
    } catch (error) {
      err(
        `${name}: --tls-ca: cannot read ${args.tlsCaFile}: ${(error as NodeJS.ErrnoException).code ?? error}\n`,
      );
      return ExitCode.Usage;
    }
  }
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  if (!deps.signal) process.once('SIGINT', onSigint);
  try {
    return await run({ args, ca, signal: deps.signal ?? controller.signal, out, err });
  } finally {
    if (!deps.signal) process.off('SIGINT', onSigint);
  }
}
