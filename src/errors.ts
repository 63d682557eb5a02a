/**
 * The one error model of smpp-bridge. Every error carries a stable `code`
 * (SMPP_ERR_<AREA>_<WHAT>) from the one registry below, whether retrying may help, and the
 * `cause` it wraps. docs/errors.md lists every code; a test fails when one is missing there.
 */

/** Every error code the project raises, in one place (docs/errors.md lists them too). */
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
  BindExists: 'SMPP_ERR_BIND_EXISTS',
  InvalidBindOptions: 'SMPP_ERR_BIND_INVALID_OPTIONS',
  BindReadOnly: 'SMPP_ERR_BIND_READ_ONLY',
  InboundHandler: 'SMPP_ERR_INBOUND_HANDLER',
  InboundTimeout: 'SMPP_ERR_INBOUND_TIMEOUT',
  InboundMalformed: 'SMPP_ERR_INBOUND_MALFORMED',
  // probe command
  Probe: 'SMPP_ERR_PROBE',
  Interrupted: 'SMPP_ERR_INTERRUPTED',
  // config
  Config: 'SMPP_ERR_CONFIG',
  // simulator
  SimInvalidInput: 'SMPP_ERR_SIM_INVALID_INPUT',
  SimNotFound: 'SMPP_ERR_SIM_NOT_FOUND',
  SimListen: 'SMPP_ERR_SIM_LISTEN',
  SimInternal: 'SMPP_ERR_SIM_INTERNAL',
  // bridge (message path rules)
  BridgeTooManyParts: 'SMPP_ERR_BRIDGE_TOO_MANY_PARTS',
  BridgeInvalidAddress: 'SMPP_ERR_BRIDGE_INVALID_ADDRESS',
  BridgeInvalidHex: 'SMPP_ERR_BRIDGE_INVALID_HEX',
  BridgeUnencodable: 'SMPP_ERR_BRIDGE_UNENCODABLE',
  BridgeInvalidMessage: 'SMPP_ERR_BRIDGE_INVALID_MESSAGE',
  BridgeRouteConfig: 'SMPP_ERR_BRIDGE_ROUTE_CONFIG',
  BridgeNoRoute: 'SMPP_ERR_BRIDGE_NO_ROUTE',
  // webhooks
  WebhookUrlRefused: 'SMPP_ERR_WEBHOOK_URL_REFUSED',
  WebhookSecret: 'SMPP_ERR_WEBHOOK_SECRET',
  // store
  StoreOpen: 'SMPP_ERR_STORE_OPEN',
  StoreMigration: 'SMPP_ERR_STORE_MIGRATION',
  StoreClosed: 'SMPP_ERR_STORE_CLOSED',
  StoreCommit: 'SMPP_ERR_STORE_COMMIT',
  StoreFenced: 'SMPP_ERR_STORE_FENCED',
  StoreNotFound: 'SMPP_ERR_STORE_NOT_FOUND',
  StoreConflict: 'SMPP_ERR_STORE_CONFLICT',
  StoreUnavailable: 'SMPP_ERR_STORE_UNAVAILABLE',
} as const;
/** The codes as a string literal union: a code that is not registered does not compile. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** Whether `value` is a registered code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODES.has(value);
}

export interface SmppErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class SmppError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: SmppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}
