/**
 * Delivery receipts (reference §10): read them from deliver_sm/data_sm, write them for the simulator.
 *
 * Reading prefers the receipt TLVs (receipted_message_id 0x001E, message_state 0x0427,
 * network_error_code 0x0423) and merges a tolerant parse of the Appendix B text:
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
 *
 * Keys may come in any order and any case; `submit date` may be written `submitdate` or
 * `submit_date`; dates have 10 or 12 digits (read as UTC); unknown vendor fields are skipped; `text`
 * may be empty or missing. Parsing never throws.
 */
import { ErrorCode, SmppError } from '../errors.js';
import { EsmClass, MessageState, TlvTag } from './constants.js';
import { formatCompactDate, parseCompactDate } from './time.js';

export type ReceiptStat =
  | 'DELIVRD'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNDELIV'
  | 'ACCEPTD'
  | 'UNKNOWN'
  | 'REJECTD'
  | 'ENROUTE'
  | 'SCHEDLD'
  | 'SKIPPED';

export interface NetworkErrorCode {
  /** Network type: 1 ANSI-136, 2 IS-95, 3 GSM; 5.0 adds 4–8, e.g. 7 SMPP error (reference §7.2). */
  type: number;
  code: number;
}

export interface Receipt {
  /** The SMSC message id the receipt is about, as received (see normaliseMessageId to match it). */
  id: string;
  sub?: number;
  dlvrd?: number;
  submitDate?: Date;
  doneDate?: Date;
  stat: ReceiptStat;
  /** The stat word as the SMSC wrote it (kept for vendor words read as UNKNOWN); '' when there was none. */
  statRaw: string;
  /** message_state (reference §10.3): the TLV value when present, else derived from `stat`. */
  messageState: number;
  /** No further receipt will follow for this message. */
  final: boolean;
  /** The message reached the handset (DELIVRD). */
  success: boolean;
  err?: string;
  text?: string;
  networkErrorCode?: NetworkErrorCode;
  /** Where the receipt was read from: TLVs only, text only, or both. */
  source: 'tlv' | 'text' | 'both';
}

/** A deliver_sm or data_sm, as far as receipts are concerned. TLV values may be raw or decoded. */
export interface ReceiptInput {
  short_message?: Buffer | string;
  esm_class?: number;
  tlvs?: readonly { tag: number; value: Buffer | string | number }[];
}

/** The stat word for each message_state value (the index). */
const STAT_BY_STATE: readonly ReceiptStat[] = [
  'SCHEDLD',
  'ENROUTE',
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'SKIPPED',
];

const STATE_BY_STAT: Readonly<Record<ReceiptStat, number>> = {
  SCHEDLD: MessageState.SCHEDULED,
  ENROUTE: MessageState.ENROUTE,
  DELIVRD: MessageState.DELIVERED,
  EXPIRED: MessageState.EXPIRED,
  DELETED: MessageState.DELETED,
  UNDELIV: MessageState.UNDELIVERABLE,
  ACCEPTD: MessageState.ACCEPTED,
  UNKNOWN: MessageState.UNKNOWN,
  REJECTD: MessageState.REJECTED,
  SKIPPED: MessageState.SKIPPED,
};

/** Stat words, plus the message_state names some SMSCs write in full. */
const STAT_WORDS: ReadonlyMap<string, ReceiptStat> = new Map<string, ReceiptStat>([
  ...STAT_BY_STATE.map((s): [string, ReceiptStat] => [s, s]),
  ...(Object.keys(MessageState) as (keyof typeof MessageState)[]).map((name): [string, ReceiptStat] => [
    name,
    STAT_BY_STATE[MessageState[name]] ?? 'UNKNOWN',
  ]),
]);

const NOT_FINAL: ReadonlySet<ReceiptStat> = new Set(['ENROUTE', 'SCHEDLD']);

/** The stat word of a message_state value, or undefined outside 0–9. */
export function statFromMessageState(state: number): ReceiptStat | undefined {
  return Number.isInteger(state) ? STAT_BY_STATE[state] : undefined;
}

export function messageStateFromStat(stat: ReceiptStat): number {
  return STATE_BY_STAT[stat];
}

/** Reads a stat word case-insensitively; unknown words are UNKNOWN. */
export function statFromWord(word: string): ReceiptStat {
  return STAT_WORDS.get(word.toUpperCase()) ?? 'UNKNOWN';
}

// ---------------------------------------------------------------------------------------------
// Reading

type TlvList = ReceiptInput['tlvs'];

function tlvValue(tlvs: TlvList, tag: number): Buffer | string | number | undefined {
  if (!Array.isArray(tlvs)) return undefined;
  for (const t of tlvs as unknown[]) {
    if (typeof t === 'object' && t !== null && (t as { tag?: unknown }).tag === tag) {
      return (t as { value?: Buffer | string | number }).value;
    }
  }
  return undefined;
}

function tlvText(tlvs: TlvList, tag: number): string | undefined {
  const v = tlvValue(tlvs, tag);
  let s: string | undefined;
  if (typeof v === 'string') s = v;
  else if (Buffer.isBuffer(v)) s = v.toString('latin1');
  if (s === undefined) return undefined;
  const nul = s.indexOf('\0');
  return nul === -1 ? s : s.slice(0, nul);
}

function tlvInt(tlvs: TlvList, tag: number): number | undefined {
  const v = tlvValue(tlvs, tag);
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (Buffer.isBuffer(v) && v.length >= 1 && v.length <= 4) return v.readUIntBE(0, v.length);
  return undefined;
}

function tlvNetworkError(tlvs: TlvList): NetworkErrorCode | undefined {
  const v = tlvValue(tlvs, TlvTag.network_error_code);
  if (Buffer.isBuffer(v) && v.length >= 3) return { type: v[0]!, code: v.readUInt16BE(1) };
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffff) {
    return { type: (v >>> 16) & 0xff, code: v & 0xffff };
  }
  return undefined;
}

type TextKey = 'id' | 'sub' | 'dlvrd' | 'submitdate' | 'donedate' | 'stat' | 'err' | 'text';

// A key starts at a word boundary ("msgid:" is not "id:"); "submit date" may be written
// "submitdate", "submit_date" or split over a line break.
const KEY_RE = /(?<![A-Za-z0-9_])(id|sub|dlvrd|submit[\s_-]*date|done[\s_-]*date|stat|err|text)\s*:/gi;

/** The receipt fields found in a text, each value as written (text keeps its spaces). */
function splitFields(text: string): Map<TextKey, string> {
  const found: { key: TextKey; keyStart: number; valueStart: number }[] = [];
  const seen = new Set<TextKey>();
  for (const m of text.matchAll(KEY_RE)) {
    const key = (m[1] ?? '').toLowerCase().replace(/[\s_-]/g, '') as TextKey;
    // A key seen before is part of the previous value (e.g. "text:my id: 5").
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ key, keyStart: m.index, valueStart: m.index + m[0].length });
  }
  const fields = new Map<TextKey, string>();
  found.forEach((f, i) => {
    fields.set(f.key, text.slice(f.valueStart, found[i + 1]?.keyStart ?? text.length));
  });
  return fields;
}

function firstToken(value: string | undefined): string | undefined {
  return value?.match(/[^\s,;\0]+/)?.[0];
}

function tokenNumber(value: string | undefined): number | undefined {
  const t = firstToken(value);
  return t !== undefined && /^\d{1,9}$/.test(t) ? Number(t) : undefined;
}

function tokenDate(value: string | undefined): Date | undefined {
  const t = firstToken(value);
  return (t && parseCompactDate(t)) || undefined;
}

interface TextReceipt {
  id?: string;
  sub?: number;
  dlvrd?: number;
  submitDate?: Date;
  doneDate?: Date;
  statRaw?: string;
  err?: string;
  text?: string;
  /** Receipt keys found other than id and text: evidence this is a receipt, not a user message. */
  otherKeys: number;
}

function parseText(text: string): TextReceipt {
  const f = splitFields(text);
  const out: TextReceipt = { otherKeys: 0 };
  for (const key of f.keys()) if (key !== 'id' && key !== 'text') out.otherKeys++;
  const id = firstToken(f.get('id'));
  if (id !== undefined) out.id = id;
  const sub = tokenNumber(f.get('sub'));
  if (sub !== undefined) out.sub = sub;
  const dlvrd = tokenNumber(f.get('dlvrd'));
  if (dlvrd !== undefined) out.dlvrd = dlvrd;
  const submitDate = tokenDate(f.get('submitdate'));
  if (submitDate) out.submitDate = submitDate;
  const doneDate = tokenDate(f.get('donedate'));
  if (doneDate) out.doneDate = doneDate;
  const stat = firstToken(f.get('stat'));
  if (stat !== undefined) out.statRaw = stat;
  const err = firstToken(f.get('err'));
  if (err !== undefined) out.err = err;
  const t = f.get('text');
  if (t !== undefined) out.text = t.replace(/^\s+/, '').replace(/[\s\0]+$/, '');
  return out;
}

function messageText(input: ReceiptInput): string {
  const sm = input.short_message;
  let text = '';
  if (typeof sm === 'string') text = sm;
  else if (Buffer.isBuffer(sm)) text = sm.toString('latin1');
  if (text.length > 0) return text;
  // Long receipts (or SMSCs that always use it) carry the text in message_payload instead.
  return tlvText(input.tlvs, TlvTag.message_payload) ?? '';
}

function isReceiptType(esmClass: number | undefined): boolean {
  if (typeof esmClass !== 'number') return false;
  const type = esmClass & EsmClass.TYPE_MASK;
  return type === EsmClass.TYPE_DELIVERY_RECEIPT || type === EsmClass.TYPE_INTERMEDIATE_NOTIFICATION;
}

/**
 * Reads a delivery receipt from a deliver_sm/data_sm, or returns null when it is not one.
 *
 * - The id comes from receipted_message_id, else from `id:` in the text. No id anywhere: null.
 * - A text-only receipt also needs another receipt key (stat, dlvrd, dates…) or an esm_class of
 *   0x04/0x20, so a user message like "id: 1234" is not taken for a receipt. esm_class is not
 *   required otherwise: some SMSCs send receipts with esm_class 0.
 * - stat comes from message_state when it holds 0–9, else from the text's stat word; unknown words
 *   give UNKNOWN with statRaw kept. When TLV and text disagree, the TLV wins.
 * - An intermediate notification (esm_class 0x20) is never final.
 */
export function parseReceipt(input: ReceiptInput): Receipt | null {
  if (typeof input !== 'object' || input === null) return null;
  const tlvs = input.tlvs;
  const tlvId = tlvText(tlvs, TlvTag.receipted_message_id)?.trim() || undefined;
  const tlvState = tlvInt(tlvs, TlvTag.message_state);
  const networkErrorCode = tlvNetworkError(tlvs);
  const hasTlv = tlvId !== undefined || tlvState !== undefined || networkErrorCode !== undefined;

  const t = parseText(messageText(input));
  const textLooksLikeReceipt =
    t.id !== undefined && (t.otherKeys > 0 || hasTlv || isReceiptType(input.esm_class));
  // With receipt TLVs, any receipt key in the text adds to them; without, the text must stand alone.
  const hasText = hasTlv ? t.id !== undefined || t.otherKeys > 0 : textLooksLikeReceipt;

  const id = tlvId ?? (textLooksLikeReceipt ? t.id : undefined);
  if (id === undefined) return null;

  const stateStat = tlvState === undefined ? undefined : statFromMessageState(tlvState);
  let stat: ReceiptStat;
  if (stateStat !== undefined) stat = stateStat;
  else if (hasText && t.statRaw !== undefined) stat = statFromWord(t.statRaw);
  else stat = 'UNKNOWN';

  const r: Receipt = {
    id,
    stat,
    statRaw: hasText && t.statRaw !== undefined ? t.statRaw : stateStat !== undefined ? stateStat : '',
    messageState: tlvState ?? STATE_BY_STAT[stat],
    final: !NOT_FINAL.has(stat) && !isIntermediate(input.esm_class),
    success: stat === 'DELIVRD',
    source: hasTlv && hasText ? 'both' : hasTlv ? 'tlv' : 'text',
  };
  if (hasText) {
    if (t.sub !== undefined) r.sub = t.sub;
    if (t.dlvrd !== undefined) r.dlvrd = t.dlvrd;
    if (t.submitDate) r.submitDate = t.submitDate;
    if (t.doneDate) r.doneDate = t.doneDate;
    if (t.err !== undefined) r.err = t.err;
    if (t.text !== undefined) r.text = t.text;
  }
  if (networkErrorCode) r.networkErrorCode = networkErrorCode;
  return r;
}

function isIntermediate(esmClass: number | undefined): boolean {
  return (
    typeof esmClass === 'number' &&
    (esmClass & EsmClass.TYPE_MASK) === EsmClass.TYPE_INTERMEDIATE_NOTIFICATION
  );
}

// ---------------------------------------------------------------------------------------------
// Writing (used by the simulator)

export interface ReceiptTextFields {
  id: string;
  /** Default 1. */
  sub?: number;
  /** Default 1 when stat is DELIVRD, else 0. */
  dlvrd?: number;
  submitDate: Date;
  doneDate: Date;
  stat: ReceiptStat;
  /** Default "000". */
  err?: string;
  /** The original message; only its first 20 characters are written. */
  text?: string;
}

function encodeError(message: string): SmppError {
  return new SmppError(ErrorCode.Encode, message);
}

function pad3(n: number, field: string): string {
  if (!Number.isInteger(n) || n < 0 || n > 999)
    throw encodeError(`receipt ${field} must be an integer 0–999`);
  return n.toString().padStart(3, '0');
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !/^[\x21-\x7e]+$/.test(id)) {
    throw encodeError('receipt id must be non-empty printable ASCII without spaces');
  }
}

/**
 * The Appendix B receipt text (reference §10.2):
 * `id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…`.
 * Dates are written in UTC, with 10 digits unless `dateDigits: 12` asks for seconds.
 */
export function formatReceiptText(r: ReceiptTextFields, options: { dateDigits?: 10 | 12 } = {}): string {
  checkId(r.id);
  const digits = options.dateDigits ?? 10;
  const err = r.err ?? '000';
  if (err.length === 0 || /[\s\0]/.test(err))
    throw encodeError('receipt err must be non-empty, without spaces');
  const text = Array.from(r.text ?? '')
    .slice(0, 20)
    .join('');
  return (
    `id:${r.id} sub:${pad3(r.sub ?? 1, 'sub')} dlvrd:${pad3(r.dlvrd ?? (r.stat === 'DELIVRD' ? 1 : 0), 'dlvrd')} ` +
    `submit date:${formatCompactDate(r.submitDate, digits)} done date:${formatCompactDate(r.doneDate, digits)} ` +
    `stat:${r.stat} err:${err} text:${text}`
  );
}

export interface ReceiptTlvFields {
  id: string;
  stat: ReceiptStat;
  /** Overrides the value derived from `stat`. */
  messageState?: number;
  networkErrorCode?: NetworkErrorCode;
}

/**
 * The receipt TLVs (reference §10.4): receipted_message_id (C-string with its NUL, ≤ 65 octets),
 * message_state, and network_error_code when given.
 */
export function receiptTlvs(r: ReceiptTlvFields): { tag: number; value: Buffer }[] {
  checkId(r.id);
  const id = Buffer.from(`${r.id}\0`, 'latin1');
  if (id.length > 65) throw encodeError('receipted_message_id must be at most 64 characters');
  const state = r.messageState ?? STATE_BY_STAT[r.stat];
  if (!Number.isInteger(state) || state < 0 || state > 0xff) throw encodeError('message_state must be 0–255');
  const out: { tag: number; value: Buffer }[] = [
    { tag: TlvTag.receipted_message_id, value: id },
    { tag: TlvTag.message_state, value: Buffer.from([state]) },
  ];
  const nec = r.networkErrorCode;
  if (nec) {
    const ok = Number.isInteger(nec.type) && nec.type >= 0 && nec.type <= 0xff;
    if (!ok || !Number.isInteger(nec.code) || nec.code < 0 || nec.code > 0xffff) {
      throw encodeError('network_error_code needs a type 0–255 and a code 0–65535');
    }
    const value = Buffer.alloc(3);
    value[0] = nec.type;
    value.writeUInt16BE(nec.code, 1);
    out.push({ tag: TlvTag.network_error_code, value });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Matching ids (reference §10.4 Rec.)

/** Longer ids are not read as numbers: receipted_message_id holds at most 64 characters. */
const MAX_NUMERIC_ID_LENGTH = 64;

/**
 * The format-independent clean-up of an SMSC message id, on the submit side and the receipt side
 * alike: no NULs (C strings arrive NUL-padded), no surrounding space, lower case, no leading zeros
 * (an id of only zeros stays "0"). Zeros go only in front of a digit or letter, so the result is a
 * fixed point ('0 !' stays as it is rather than becoming ' !', which a second pass would trim).
 */
export function cleanMessageId(id: string): string {
  const lower = id.replace(/\0/g, '').trim().toLowerCase();
  return lower.replace(/^0+(?=[0-9a-z])/, '');
}

/**
 * Forms under which a message id may come back in a receipt: the trimmed id, lower-cased, without
 * leading zeros, and its hex↔decimal counterparts (an SMSC may answer submit_sm with hex and
 * report decimal, or the reverse). Two ids match when their candidate lists share an entry.
 */
export function normaliseMessageId(id: string): string[] {
  if (typeof id !== 'string') return [];
  const trimmed = id.replace(/\0/g, '').trim();
  if (trimmed.length === 0) return [];
  const lower = trimmed.toLowerCase();
  const stripped = cleanMessageId(trimmed);
  const out = new Set([trimmed, lower, stripped]);
  if (stripped.length <= MAX_NUMERIC_ID_LENGTH) {
    if (/^\d+$/.test(stripped)) out.add(BigInt(stripped).toString(16));
    if (/^[0-9a-f]+$/.test(stripped)) out.add(BigInt(`0x${stripped}`).toString(10));
  }
  return [...out];
}

/** True when two message ids may name the same message (see normaliseMessageId). */
export function messageIdsMatch(a: string, b: string): boolean {
  const candidates = new Set(normaliseMessageId(a));
  return normaliseMessageId(b).some((c) => candidates.has(c));
}
