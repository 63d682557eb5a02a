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
