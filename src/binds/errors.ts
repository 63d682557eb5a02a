/** Errors of the bind layer, each with a stable code. */
import { ErrorCode, SmppError } from '../errors.js';

/** A probe got no enquire_link_resp in time. */
export class SmppProbeTimeoutError extends SmppError {
  constructor(
    readonly bindId: string,
    readonly timeoutMs: number,
    cause?: unknown,
  ) {
    super(ErrorCode.ProbeTimeout, `bind ${bindId}: no enquire_link_resp within ${timeoutMs} ms`, {
      retriable: true,
      cause,
    });
  }
}

/** A manual probe came sooner than minProbeIntervalMs after the previous one. */
export class SmppProbeRateLimitedError extends SmppError {
  constructor(
    readonly bindId: string,
    readonly retryAfterMs: number,
  ) {
    super(ErrorCode.ProbeRateLimited, `bind ${bindId}: probed too recently; retry in ${retryAfterMs} ms`, {
      retriable: true,
    });
  }
}

/** The bind is stopped (or the service is shutting down). */
export class SmppBindStoppedError extends SmppError {
  constructor(
    readonly bindId: string,
    options: { cause?: unknown } = {},
  ) {
    super(ErrorCode.Stopped, `bind ${bindId} is stopped`, options);
  }
}

/** No bind with this id is in the registry. */
export class SmppUnknownBindError extends SmppError {
  constructor(readonly bindId: string) {
    super(ErrorCode.UnknownBind, `no bind with id '${bindId}'`);
  }
}

/** A bind with this id is already in the registry. */
export class SmppBindExistsError extends SmppError {
  constructor(readonly bindId: string) {
    super(ErrorCode.BindExists, `a bind with id '${bindId}' already exists`);
  }
}

/** One thing wrong with a bind's options: the key path and what is wrong with it. */
export interface BindOptionsIssue {
  field: string;
  message: string;
}

/** A bind's options cannot be used; `issues` names each offending key. */
export class SmppInvalidBindOptionsError extends SmppError {
  constructor(
    readonly bindId: string | undefined,
    readonly issues: readonly BindOptionsIssue[],
  ) {
    const what = bindId === undefined ? 'bind' : `bind '${bindId}'`;
    super(
      ErrorCode.InvalidBindOptions,
      `invalid ${what}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`,
    );
  }
}

/** The bind comes from the config file: the bind API may not change or remove it. */
export class SmppBindReadOnlyError extends SmppError {
  constructor(readonly bindId: string) {
    super(
      ErrorCode.BindReadOnly,
      `bind '${bindId}' comes from the config file and is read-only through the API; change the file and reload (SIGHUP)`,
    );
  }
}

/** The inbound handler threw, rejected or returned no valid commandStatus. */
export class SmppInboundHandlerError extends SmppError {
  constructor(
    readonly bindId: string,
    readonly command: string,
    what: string,
    cause?: unknown,
  ) {
    super(ErrorCode.InboundHandler, `bind ${bindId}: the inbound handler of ${command} ${what}`, {
      retriable: true,
      cause,
    });
  }
}

/** The inbound handler did not settle within inboundTimeoutMs. */
export class SmppInboundTimeoutError extends SmppError {
  constructor(
    readonly bindId: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.InboundTimeout,
      `bind ${bindId}: the inbound handler of ${command} took over ${timeoutMs} ms`,
      {
        retriable: true,
      },
    );
  }
}
