/** Errors the simulator raises: input to its API (a fault, a scope, an MO) that cannot be used. */
import { ErrorCode, SmppError } from '../errors.js';

/** Codes of the simulator's errors, from the one registry in src/errors.ts. */
export const SimErrorCode = {
  /** A fault, scope, MO or request body that does not validate. */
  InvalidInput: ErrorCode.SimInvalidInput,
  /** No fault with that id. */
  NotFound: ErrorCode.SimNotFound,
  /** listen() on a closed simulator, or the port is taken. */
  Listen: ErrorCode.SimListen,
} as const;
export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode];

export interface SimIssue {
  /** Key path of the offending value, e.g. `fault.ms` or `scope.systemId`; '' for the value itself. */
  path: string;
  message: string;
}

export class SimulatorError extends SmppError {
  readonly issues: readonly SimIssue[];

  constructor(code: SimErrorCode, message: string, issues: readonly SimIssue[] = [], cause?: unknown) {
    super(code, message, { cause });
    this.issues = issues;
  }

  /** One error listing every issue, as `path: message; path: message`. */
  static invalid(what: string, issues: readonly SimIssue[]): SimulatorError {
    const detail = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ');
    return new SimulatorError(SimErrorCode.InvalidInput, `invalid ${what}: ${detail}`, issues);
  }
}
