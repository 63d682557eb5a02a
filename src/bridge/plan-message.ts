/**
 * From a send request (the HTTP body of issue 10) to the submit_sm PDUs that carry it, or a typed error:
 * pure, the concatenation reference is given by the caller. Text encoding and splitting are
 * src/protocol/text.ts and segments.ts; this module only decides and checks.
 *
 * Rules:
 * - Exactly one of `text` and `binary` ({ hex, udhHex? }). `encoding` (auto | gsm7 | latin1 | ucs2, default
 *   auto: GSM 7-bit, else UCS-2) applies to text; binary goes as data_coding 0x04.
 * - Never truncate: more parts than `maxParts` (default 6, at most 255) is TOO_MANY_PARTS (422), with the
 *   count in the error. Jasmin #1253 silently cut long messages at 5 parts.
 * - registered_delivery is set on EVERY part from the receipt policy (default `final`): Jasmin #483,
 *   #663, #789 asked for a receipt on the last part only, and the other parts' receipts failed.
 * - validitySeconds becomes a relative validity_period `YYMMDDhhmmss000R` (reference §8.5 Rec.): no
 *   clock skew with the SMSC, and it counts from the submission, not from the request. sendAt is not sent
 *   to the SMSC: the bridge holds the message (status `scheduled`) and sends it then.
 * - Addresses (reference §8.1): `to` is digits with an optional `+` (MSISDN, TON 1 / NPI 1; the `+` is
 *   dropped), or a short code of at most 8 digits without `+` (TON 3 / NPI 0). `from` may also be
 *   alphanumeric (TON 5 / NPI 0): at most 11 GSM characters. Anything else is INVALID_ADDRESS.
 * - Binary with udhHex: the UDH is the user's (ports, WAP push); a message too long for one part gets a
 *   concatenation element added to each part's copy of that UDH.
 */
import { ErrorCode, SmppError } from '../errors.js';
import { DataCoding, EsmClass, Npi, TlvTag, Ton } from '../protocol/constants.js';
import { isGsm7Encodable, UnencodableCharError } from '../protocol/gsm7.js';
import type { PduInit } from '../protocol/pdu.js';
import {
  countSegments,
  MAX_SEGMENTS,
  type SplitEncoding,
  type SplitMethod,
  splitText,
} from '../protocol/segments.js';
import { formatRelativeTime, relativeFromMs } from '../protocol/time.js';
import type { Tlv } from '../protocol/tlv.js';
import { type ReceiptPolicy, registeredDeliveryFor } from './message-status.js';

/** The body of a send request, as the HTTP schema has already typed it. */
export interface SendRequest {
  to: string;
  from: string;
  text?: string;
  binary?: { hex: string; udhHex?: string };
  encoding?: SplitEncoding;
  maxParts?: number;
  /** Which receipts to ask for; `true` = `final`, `false` = `none`. Default `final`. */
  receipt?: ReceiptPolicy | boolean;
  validitySeconds?: number;
  /** ISO 8601 date-time. */
  sendAt?: string;
}

export interface PlanOptions {
  /** Concatenation reference: 0–255 for udh8, 0–65535 for udh16 and sar. */
  reference: number;
  /** How parts are tied together. Default udh8. */
  method?: SplitMethod;
  /** With encoding auto, allow Latin-1 (data_coding 3) for non-GSM text that fits it. Default false. */
  allowLatin1?: boolean;
  /** Bit-pack GSM 7-bit. Default false (one septet per octet, what most SMSCs expect: reference §9.3). */
  gsm7Packed?: boolean;
}

export const DEFAULT_MAX_PARTS = 6;
/** relativeFromMs goes up to 99 days 23:59:59. */
export const MAX_VALIDITY_SECONDS = 99 * 86_400 + 86_399;

export interface MessagePlan {
  /** One submit_sm init per part, in part order (sequence_number is the session's). */
  parts: PduInit<'submit_sm'>[];
  encoding: 'gsm7' | 'latin1' | 'ucs2' | 'binary';
  dataCoding: number;
  receiptPolicy: ReceiptPolicy;
  /** Epoch ms; absent = send now. */
  sendAt?: number;
  validitySeconds?: number;
}

export type PlanErrorCode =
  | 'TOO_MANY_PARTS'
  | 'INVALID_ADDRESS'
  | 'INVALID_HEX'
  | 'UNENCODABLE_TEXT'
  | 'INVALID_MESSAGE';

const SMPP_CODE: Record<PlanErrorCode, ErrorCode> = {
  TOO_MANY_PARTS: ErrorCode.BridgeTooManyParts,
  INVALID_ADDRESS: ErrorCode.BridgeInvalidAddress,
  INVALID_HEX: ErrorCode.BridgeInvalidHex,
  UNENCODABLE_TEXT: ErrorCode.BridgeUnencodable,
  INVALID_MESSAGE: ErrorCode.BridgeInvalidMessage,
};

/** A request that cannot become PDUs: the HTTP layer answers 422 { code: httpCode, message, details }. */
export class PlanError extends SmppError {
  readonly httpCode: PlanErrorCode;
  readonly httpStatus = 422;
  /** The body field at fault (`to`, `text`, `binary.hex`...). */
  readonly field: string;
  readonly parts?: number;
  readonly maxParts?: number;

  constructor(
    httpCode: PlanErrorCode,
    field: string,
    message: string,
    extra: { parts?: number; maxParts?: number; cause?: unknown } = {},
  ) {
    super(SMPP_CODE[httpCode], message, { cause: extra.cause });
    this.httpCode = httpCode;
    this.field = field;
    if (extra.parts !== undefined) this.parts = extra.parts;
    if (extra.maxParts !== undefined) this.maxParts = extra.maxParts;
  }
}

export type PlanResult = { ok: true; plan: MessagePlan } | { ok: false; error: PlanError };

// ---------------------------------------------------------------------------------------------
// Addresses

export interface Address {
  addr: string;
  ton: number;
  npi: number;
}

const MSISDN = /^\+?[0-9]{1,20}$/;

/** The destination: an MSISDN (1/1, `+` dropped) or a short code of ≤ 8 digits (3/0). */
export function parseDestination(to: string): Address | undefined {
  if (!MSISDN.test(to)) return undefined;
  const digits = to.startsWith('+') ? to.slice(1) : to;
  if (to.startsWith('+'))
    return digits.length <= 15 ? { addr: digits, ton: Ton.international, npi: Npi.isdn } : undefined;
  if (digits.length <= 8) return { addr: digits, ton: Ton.network_specific, npi: Npi.unknown };
  return { addr: digits, ton: Ton.international, npi: Npi.isdn };
}

/** The sender: like a destination, or alphanumeric (5/0) of at most 11 GSM characters. */
export function parseSource(from: string): Address | undefined {
  const numeric = parseDestination(from);
  if (numeric) return numeric;
  if (from.length === 0 || from.length > 11 || from.trim() !== from || !isGsm7Encodable(from))
    return undefined;
  return { addr: from, ton: Ton.alphanumeric, npi: Npi.unknown };
}

// ---------------------------------------------------------------------------------------------
// The plan

function parseHex(hex: string, field: string): Buffer | PlanError {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    return new PlanError('INVALID_HEX', field, `${field} must be an even number of hex digits`);
  }
  return Buffer.from(clean, 'hex');
}

const RECEIPT_POLICIES: ReadonlySet<string> = new Set(['final', 'failure', 'all', 'none']);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function receiptPolicyOf(receipt: SendRequest['receipt']): ReceiptPolicy {
  if (receipt === undefined || receipt === true) return 'final';
  if (receipt === false) return 'none';
  return receipt;
}

/** Turns a send request into submit_sm inits, or says which field is wrong. Never throws. */
export function planMessage(req: SendRequest, options: PlanOptions, now: number): PlanResult {
  try {
    return { ok: true, plan: plan(req, options, now) };
  } catch (err) {
    if (err instanceof PlanError) return { ok: false, error: err };
    if (err instanceof UnencodableCharError) {
      return {
        ok: false,
        error: new PlanError('UNENCODABLE_TEXT', 'text', err.message, { cause: err }),
      };
    }
    throw err; // a bug, not bad input
  }
}

function plan(req: SendRequest, options: PlanOptions, now: number): MessagePlan {
  const dest = parseDestination(req.to);
  if (!dest) {
    throw new PlanError(
      'INVALID_ADDRESS',
      'to',
      'to must be an MSISDN (+ and up to 15 digits) or a short code',
    );
  }
  const src = parseSource(req.from);
  if (!src) {
    throw new PlanError(
      'INVALID_ADDRESS',
      'from',
      'from must be an MSISDN, a short code or up to 11 GSM characters',
    );
  }
  const maxParts = req.maxParts ?? DEFAULT_MAX_PARTS;
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_SEGMENTS) {
    throw new PlanError('INVALID_MESSAGE', 'maxParts', `maxParts must be an integer 1–${MAX_SEGMENTS}`);
  }
  const receiptPolicy = receiptPolicyOf(req.receipt);
  if (!RECEIPT_POLICIES.has(receiptPolicy)) {
    throw new PlanError(
      'INVALID_MESSAGE',
      'receipt',
      'receipt must be true, false, final, failure, all or none',
    );
  }
  let validity_period = '';
  if (req.validitySeconds !== undefined) {
    const v = req.validitySeconds;
    if (!Number.isInteger(v) || v < 1 || v > MAX_VALIDITY_SECONDS) {
      throw new PlanError(
        'INVALID_MESSAGE',
        'validitySeconds',
        `validitySeconds must be an integer 1–${MAX_VALIDITY_SECONDS}`,
      );
    }
    validity_period = formatRelativeTime(relativeFromMs(v * 1000));
  }
  let sendAt: number | undefined;
  if (req.sendAt !== undefined) {
    // ISO 8601 with a date and a time; Date.parse alone would take "Dec 7" in the local time zone.
    sendAt = ISO_DATE_TIME.test(req.sendAt) ? Date.parse(req.sendAt) : Number.NaN;
    if (!Number.isFinite(sendAt)) {
      throw new PlanError(
        'INVALID_MESSAGE',
        'sendAt',
        'sendAt must be an ISO 8601 date-time with a time zone',
      );
    }
    if (sendAt <= now) sendAt = undefined;
  }
  const common: PduInit<'submit_sm'> = {
    source_addr_ton: src.ton,
    source_addr_npi: src.npi,
    source_addr: src.addr,
    dest_addr_ton: dest.ton,
    dest_addr_npi: dest.npi,
    destination_addr: dest.addr,
    validity_period,
    registered_delivery: registeredDeliveryFor(receiptPolicy),
  };
  const body = bodies(req, options, maxParts);
  const parts = body.parts.map<PduInit<'submit_sm'>>((p) => {
    const init: PduInit<'submit_sm'> = {
      ...common,
      esm_class: p.esm_class,
      data_coding: body.dataCoding,
      short_message: p.short_message,
    };
    if (p.tlvs.length > 0) init.tlvs = p.tlvs;
    return init;
  });
  const out: MessagePlan = { parts, encoding: body.encoding, dataCoding: body.dataCoding, receiptPolicy };
  if (sendAt !== undefined) out.sendAt = sendAt;
  if (req.validitySeconds !== undefined) out.validitySeconds = req.validitySeconds;
  return out;
}

interface Bodies {
  encoding: MessagePlan['encoding'];
  dataCoding: number;
  parts: { short_message: Buffer; esm_class: number; tlvs: Tlv[] }[];
}

function tooMany(parts: number, maxParts: number): PlanError {
  return new PlanError(
    'TOO_MANY_PARTS',
    'text',
    `the message needs ${parts} parts; at most ${maxParts} are allowed (maxParts)`,
    { parts, maxParts },
  );
}

const ENCODINGS: ReadonlySet<string> = new Set(['auto', 'gsm7', 'latin1', 'ucs2']);

function bodies(req: SendRequest, options: PlanOptions, maxParts: number): Bodies {
  const hasText = typeof req.text === 'string';
  if (hasText === (req.binary !== undefined)) {
    throw new PlanError('INVALID_MESSAGE', 'text', 'give exactly one of text and binary');
  }
  const method = options.method ?? 'udh8';
  if (req.encoding !== undefined && !ENCODINGS.has(req.encoding)) {
    throw new PlanError('INVALID_MESSAGE', 'encoding', 'encoding must be auto, gsm7, latin1 or ucs2');
  }
  if (req.binary) return binaryBodies(req.binary, method, options.reference, maxParts);
  const text = req.text as string;
  if (text.length === 0) throw new PlanError('INVALID_MESSAGE', 'text', 'text must not be empty');
  const segmentOptions = { encoding: req.encoding ?? 'auto', allowLatin1: options.allowLatin1 ?? false };
  // Count before splitting: the error names the count, and nothing is built for a refused message.
  const count = countSegments(text, { ...segmentOptions, method });
  if (method !== 'payload' && count.segments > maxParts) throw tooMany(count.segments, maxParts);
  const split = splitText(text, {
    ...segmentOptions,
    method,
    reference: options.reference,
    gsm7Packed: options.gsm7Packed ?? false,
  });
  return {
    encoding: count.encoding,
    dataCoding: count.dataCoding,
    parts: split.map((p) => {
      const tlvs: Tlv[] = p.tlvs.map((t) => ({ tag: t.tag, value: t.value }));
      if (p.message_payload) tlvs.push({ tag: TlvTag.message_payload, value: p.message_payload });
      return { short_message: p.short_message, esm_class: p.esm_class_flags, tlvs };
    }),
  };
}

/** Octets in one SMS (reference §9.4). */
const SMS_OCTETS = 140;

function binaryBodies(
  binary: NonNullable<SendRequest['binary']>,
  method: SplitMethod,
  reference: number,
  maxParts: number,
): Bodies {
  const data = parseHex(binary.hex, 'binary.hex');
  if (data instanceof PlanError) throw data;
  let userUdh: Buffer = Buffer.alloc(0);
  if (binary.udhHex !== undefined) {
    const udh = parseHex(binary.udhHex, 'binary.udhHex');
    if (udh instanceof PlanError) throw udh;
    // The hex is the whole header, UDHL first: UDHL must count the octets that follow.
    if (udh.length < 1 || udh[0] !== udh.length - 1) {
      throw new PlanError(
        'INVALID_HEX',
        'binary.udhHex',
        'binary.udhHex must start with its length octet (UDHL)',
      );
    }
    userUdh = udh;
  }
  if (data.length === 0 && userUdh.length === 0)
    throw new PlanError('INVALID_MESSAGE', 'binary.hex', 'binary.hex must not be empty');
  const dataCoding = DataCoding.BINARY_2;
  const single = (short_message: Buffer, esm_class: number) => ({
    encoding: 'binary' as const,
    dataCoding,
    parts: [{ short_message, esm_class, tlvs: [] }],
  });
  if (method === 'payload') {
    return {
      encoding: 'binary',
      dataCoding,
      parts: [
        {
          short_message: Buffer.alloc(0),
          esm_class: userUdh.length ? EsmClass.UDHI : 0,
          tlvs: [{ tag: TlvTag.message_payload, value: Buffer.concat([userUdh, data]) }],
        },
      ],
    };
  }
  if (userUdh.length + data.length <= SMS_OCTETS) {
    return single(Buffer.concat([userUdh, data]), userUdh.length ? EsmClass.UDHI : 0);
  }
  // Each part: the user's elements plus a concatenation element (sar: no element, TLVs instead).
  const elements = userUdh.subarray(1);
  const concatLength = method === 'udh8' ? 5 : method === 'udh16' ? 6 : 0;
  const udhLength = elements.length + concatLength > 0 ? 1 + elements.length + concatLength : 0;
  const perPart = SMS_OCTETS - udhLength;
  if (perPart < 1)
    throw new PlanError('INVALID_HEX', 'binary.udhHex', 'binary.udhHex leaves no room for data');
  const total = Math.ceil(data.length / perPart);
  if (total > maxParts) throw tooMany(total, maxParts);
  const parts: Bodies['parts'] = [];
  for (let k = 0; k < total; k++) {
    const seq = k + 1;
    const chunk = data.subarray(k * perPart, (k + 1) * perPart);
    let concat: Buffer;
    if (method === 'udh8') concat = Buffer.from([0x00, 0x03, reference & 0xff, total, seq]);
    else if (method === 'udh16')
      concat = Buffer.from([0x08, 0x04, (reference >> 8) & 0xff, reference & 0xff, total, seq]);
    else concat = Buffer.alloc(0);
    const udh =
      udhLength > 0 ? Buffer.concat([Buffer.from([udhLength - 1]), elements, concat]) : Buffer.alloc(0);
    const tlvs: Tlv[] =
      method === 'sar'
        ? [
            { tag: TlvTag.sar_msg_ref_num, value: reference & 0xffff },
            { tag: TlvTag.sar_total_segments, value: total },
            { tag: TlvTag.sar_segment_seqnum, value: seq },
          ]
        : [];
    parts.push({
      short_message: Buffer.concat([udh, chunk]),
      esm_class: udh.length > 0 ? EsmClass.UDHI : 0,
      tlvs,
    });
  }
  return { encoding: 'binary', dataCoding, parts };
}
