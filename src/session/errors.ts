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

/** The peer did not read what we sent: output stayed above the high-water mark too long. */
export class SmppWriteStalledError extends SmppError {
  constructor(
    readonly queuedBytes: number,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.WriteStalled,
      `write_stalled: the peer stopped reading our output (${queuedBytes} bytes unsent for ${timeoutMs} ms)`,
      { retriable: true },
    );
  }
}

/** A PDU started arriving and did not complete within the frame timeout. */
export class SmppFrameStalledError extends SmppError {
  constructor(
    readonly bufferedBytes: number,
    readonly timeoutMs: number,
  ) {
    super(
      ErrorCode.FrameStalled,
      `frame_stalled: a PDU started and did not complete within ${timeoutMs} ms (${bufferedBytes} bytes held)`,
      { retriable: true },
    );
  }
}

/**
 * enquire_link was answered, but not with an OK enquire_link_resp (generic_nack, or a non-zero
 * command_status). The link is alive; the SMSC refuses the probe.
 */
export class SmppProbeRejectedError extends SmppError {
  readonly statusName: string;
  constructor(
    readonly command: string,
    readonly commandStatus: number,
    readonly rttMs: number,
    readonly sequenceNumber: number,
  ) {
    const info = statusInfo(commandStatus);
    super(
      ErrorCode.ProbeRejected,
      `enquire_link answered with ${command} ${info.name} (0x${commandStatus.toString(16).padStart(8, '0')})`,
      { retriable: true },
    );
    this.statusName = info.name;
  }
}
