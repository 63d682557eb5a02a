/** Errors raised by a session. Each carries a stable code and whether a retry may help. */
import { ErrorCode, SmppError } from '../errors.js';
import { type RetryClass, statusInfo } from '../protocol/command-status.js';
import type { Pdu } from '../protocol/pdu.js';
import type { CloseReason } from './state.js';

/** No response within the response timeout: the outcome of the request is unknown. */
export class SmppResponseTimeoutError extends SmppError {
  constructor(
    readonly command: string,
    readonly sequenceNumber: number,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.ResponseTimeout,
      `no response to ${command} seq ${sequenceNumber} within ${timeoutMs} ms`,
      {
        retriable: true,
      },
    );
  }
}

/** The in-flight window stayed full for the whole window-wait timeout. */
export class SmppWindowWaitTimeoutError extends SmppError {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(ErrorCode.WindowWaitTimeout, `no window slot for ${command} within ${timeoutMs} ms`, {
      retriable: true,
    });
  }
}

/** The connection closed: every pending request is rejected with this. */
export class SmppConnectionClosedError extends SmppError {
  constructor(
    readonly reason: CloseReason,
    cause?: unknown,
  ) {
    super(ErrorCode.ConnectionClosed, `connection closed (${reason})`, { retriable: true, cause });
  }
}

/** The request is not allowed in the session's state (not bound, or the wrong bind type). */
export class SmppNotBoundError extends SmppError {
  constructor(
    readonly command: string,
    readonly state: string,
  ) {
    super(ErrorCode.NotBound, `cannot send ${command} in state ${state}`, { retriable: true });
  }
}

/** The SMSC refused the bind. `retriable` follows the status's class: wrong credentials are not. */
export class SmppBindError extends SmppError {
  readonly statusName: string;
  constructor(readonly commandStatus: number) {
    const info = statusInfo(commandStatus);
    super(
      ErrorCode.Bind,
      `bind refused: ${info.name} (0x${commandStatus.toString(16).padStart(8, '0')}) ${info.description}`,
      {
        retriable: info.retryClass === 'retry' || info.retryClass === 'session',
      },
    );
    this.statusName = info.name;
  }
}

/** TCP or TLS connect failed or timed out. */
export class SmppConnectError extends SmppError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.Connect, message, { retriable: true, cause });
  }
}

/**
 * A response came back with a non-zero command_status (submit_sm_resp, query_sm_resp, ...).
 * `statusName` and `retryClass` come from src/protocol/command-status.ts: `retry` may be resent
 * later with back-off (`retriable`), `permanent` must be fixed first, `session` and `bind` point
 * at the bind rather than the message.
 */
export class SmppCommandStatusError extends SmppError {
  readonly statusName: string;
  readonly retryClass: RetryClass;
  constructor(
    readonly command: string,
    readonly commandStatus: number,
    readonly sequenceNumber?: number,
  ) {
    const info = statusInfo(commandStatus);
    super(
      ErrorCode.CommandStatus,
      `${command} refused: ${info.name} (0x${commandStatus.toString(16).padStart(8, '0')}) ${info.description}`,
      { retriable: info.retryClass === 'retry' },
    );
    this.statusName = info.name;
    this.retryClass = info.retryClass;
  }
}

/** Returns a response with ESME_ROK as is; throws SmppCommandStatusError for any other status. */
export function expectOk<T extends Pdu>(response: T): T {
  if (response.command_status === 0) return response;
  throw new SmppCommandStatusError(response.command, response.command_status, response.sequence_number);
}
