/**
 * An inbound message as users see it (the webhook event's data and GET /inbound): its octets decoded
 * by data_coding (GSM 7-bit, Latin-1, UCS-2, …; binary codings as hex). The store keeps the joined
 * user data octets, so a message is decoded the same way whenever it is read.
 */
import { decodeText } from '../../protocol/text.js';
import type { InboundMessageRecord } from '../../store/store.js';
import type { ReceivedMessage } from '../ports.js';

export interface DecodedBody {
  /** null for a binary data_coding (see `binaryHex`). */
  text: string | null;
  binaryHex: string | null;
  /** gsm7, ascii, latin1, ucs2 or binary. */
  encoding: string;
}

export function decodeBody(body: Uint8Array, dataCoding: number): DecodedBody {
  const decoded = decodeText(body, dataCoding);
  if (decoded.binary) return { text: null, binaryHex: decoded.binary.toString('hex'), encoding: 'binary' };
  return { text: decoded.text, binaryHex: null, encoding: decoded.encoding };
}

/** What the InboundEventSink is told of a stored message (`text`: its body decoded, when at hand). */
export function receivedMessage(message: InboundMessageRecord, text?: string | null): ReceivedMessage {
  return {
    message,
    route: message.route,
    text: text === undefined ? decodeBody(message.body, message.dataCoding).text : text,
    dataCoding: message.dataCoding,
    incomplete: message.incomplete,
  };
}
