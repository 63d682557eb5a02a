import { ErrorCode, SmppError } from '../errors.js';
import { commandName } from './constants.js';

/** The readable part of a PDU header, carried by a recoverable decode error so the session can answer. */
export interface PduHeader {
  command_length: number;
  command_id: number;
  command_status: number;
  sequence_number: number;
}

/**
 * A PDU that could not be read. `recoverable` errors had a readable header and a bad body:
 * answer with generic_nack or the _resp carrying `commandStatus`. Unrecoverable ones mean the
 * byte stream is lost: close the connection.
 */
export class SmppDecodeError extends SmppError {
  readonly recoverable: boolean;
  readonly header: PduHeader | undefined;
  /** The command_status to answer with (ESME_RINVCMDLEN, ESME_RINVCMDID, ESME_RINVMSGLEN, ...). */
  readonly commandStatus: number;

  constructor(
    message: string,
    opts: { recoverable: boolean; header?: PduHeader; commandStatus: number; cause?: unknown },
  ) {
    super(opts.recoverable ? ErrorCode.DecodeBody : ErrorCode.DecodeFraming, message, { cause: opts.cause });
    this.recoverable = opts.recoverable;
    this.header = opts.header;
    this.commandStatus = opts.commandStatus;
  }
}

/** A PDU that must not be sent: it breaks the spec. `field` names the offending field or TLV. */
export class SmppEncodeError extends SmppError {
  readonly field: string;
  constructor(command: string, field: string, message: string) {
    super(ErrorCode.Encode, `${command}.${field}: ${message}`);
    this.field = field;
  }
}

/** Up to `max` bytes as hex and as printable ASCII, for error messages and logs. */
export function previewBytes(buf: Buffer, max = 32): string {
  const part = buf.subarray(0, max);
  const hex = part.toString('hex').replace(/(..)(?!$)/g, '$1 ');
  let ascii = '';
  for (const b of part) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  return `${hex}${buf.length > max ? ' …' : ''} |${ascii}|`;
}

/** Explains an impossible command_length: often another protocol (HTTP, TLS) on an SMPP port. */
export function describeBadLength(buf: Buffer): string {
  const head = buf.subarray(0, 4);
  const text = head.toString('latin1');
  if (/^(GET |POST|PUT |HEAD|HTTP|OPTI|DELE|PATC|CONN)/.test(text))
    return ' (the peer speaks HTTP, not SMPP)';
  if (head[0] === 0x16 && head[1] === 0x03) return ' (a TLS handshake: the peer expects TLS on this port)';
  if (head.length === 4) {
    const asId = head.readUInt32BE(0);
    if (commandName(asId)) return ` (looks like a command_id: the stream is out of step)`;
    if (/^[\x20-\x7e]{4}$/.test(text)) return ` (ASCII "${text}": the peer is not speaking SMPP)`;
  }
  return '';
}
