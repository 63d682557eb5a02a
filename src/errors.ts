/**
 * The one error model of smpp-bridge. Every error carries a stable `code`
 * (SMPP_ERR_<AREA>_<WHAT>), whether retrying may help, and the `cause` it wraps.
 */
export interface SmppErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class SmppError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: SmppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Every error code the project raises, in one place (the README lists them too). */
export const ErrorCode = {
  // protocol
  DecodeFraming: 'SMPP_ERR_DECODE_FRAMING',
  DecodeBody: 'SMPP_ERR_DECODE_BODY',
  Encode: 'SMPP_ERR_ENCODE',
  Text: 'SMPP_ERR_TEXT',
  // session
  ResponseTimeout: 'SMPP_ERR_SESSION_RESPONSE_TIMEOUT',
  WindowWaitTimeout: 'SMPP_ERR_SESSION_WINDOW_TIMEOUT',
  ConnectionClosed: 'SMPP_ERR_SESSION_CLOSED',
  NotBound: 'SMPP_ERR_SESSION_NOT_BOUND',
  InvalidState: 'SMPP_ERR_SESSION_STATE',
  Bind: 'SMPP_ERR_BIND',
  Connect: 'SMPP_ERR_CONNECT',
  CommandStatus: 'SMPP_ERR_COMMAND_STATUS',
  GenericNack: 'SMPP_ERR_GENERIC_NACK',
  WriteStalled: 'SMPP_ERR_SESSION_WRITE_STALLED',
  FrameStalled: 'SMPP_ERR_SESSION_FRAME_STALLED',
  // binds
  ProbeTimeout: 'SMPP_ERR_PROBE_TIMEOUT',
  ProbeRejected: 'SMPP_ERR_PROBE_REJECTED',
  ProbeRateLimited: 'SMPP_ERR_PROBE_RATE_LIMITED',
  Stopped: 'SMPP_ERR_BIND_STOPPED',
  UnknownBind: 'SMPP_ERR_BIND_UNKNOWN',
  // probe command
  Probe: 'SMPP_ERR_PROBE',
  Interrupted: 'SMPP_ERR_INTERRUPTED',
  // config
  Config: 'SMPP_ERR_CONFIG',
  // simulator
  SimInvalidInput: 'SMPP_ERR_SIM_INVALID_INPUT',
  SimNotFound: 'SMPP_ERR_SIM_NOT_FOUND',
  SimListen: 'SMPP_ERR_SIM_LISTEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
