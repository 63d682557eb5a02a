/**
 * encodePdu(pdu) → Buffer and decodePdu(frame) → DecodeResult, driven by the LAYOUTS data.
 * Strict on what it emits (every spec violation is an SmppEncodeError naming the field),
 * tolerant on what it reads (over-long strings, bodies of failed responses, trailing bytes of
 * header-only PDUs) and never reads past command_length.
 */
import {
  CommandId,
  type CommandName,
  commandName,
  DEFAULT_MAX_PDU_LENGTH,
  HEADER_LENGTH,
  isResponseId,
  MAX_SEQUENCE_NUMBER,
  TlvTag,
} from './constants.js';
import { type PduHeader, previewBytes, SmppDecodeError, SmppEncodeError } from './errors.js';
import { type DestAddress, type FieldSpec, LAYOUTS, TAKES_TLVS, type UnsuccessSme } from './layouts.js';
import type { Pdu } from './pdu.js';
import { decodeTlvValue, TLV_TABLE, type Tlv } from './tlv.js';

const ESME_RINVMSGLEN = 0x01;
const ESME_RINVCMDLEN = 0x02;
const ESME_RINVCMDID = 0x03;
const ESME_RINVTLVSTREAM = 0xc0;
const MESSAGE_PAYLOAD = TlvTag.message_payload;

/** The longest short_message we send (3.4 text); 255 is accepted on decode (reference §15 #9). */
export const MAX_SHORT_MESSAGE_LENGTH = 254;
const TIME_PATTERN = /^\d{12}\d\d\d[+\-R]$/;

export type DecodeResult = { ok: true; pdu: Pdu } | { ok: false; error: SmppDecodeError };

export interface EncodeOptions {
  maxPduLength?: number;
}

// ---------------------------------------------------------------- encode

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

/** A value for an error message; never throws (String() does on some objects). */
function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  if (typeof v === 'symbol' || typeof v === 'function') return `a ${typeof v}`;
  return String(v);
}

function checkInt(cmd: string, field: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new SmppEncodeError(cmd, field, `must be an integer from 0 to ${max}, got ${show(v)}`);
  }
  return v;
}

/** Bytes a C-Octet String takes (chars + NUL), after checking it is Latin-1 with no NUL and fits. */
function cstringSize(cmd: string, field: string, v: unknown, max: number): number {
  if (typeof v !== 'string') throw new SmppEncodeError(cmd, field, `must be a string, got ${typeof v}`);
  if (v.length > max - 1) {
    throw new SmppEncodeError(
      cmd,
      field,
      `is ${v.length} characters; at most ${max - 1} fit (max ${max} with NUL)`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0 || c > 0xff) {
      throw new SmppEncodeError(
        cmd,
        field,
        `character ${i} (U+${c.toString(16).padStart(4, '0')}) is not allowed in a C-Octet String`,
      );
    }
  }
  return v.length + 1;
}

function fieldSize(cmd: string, spec: FieldSpec, v: unknown): number {
  switch (spec.kind) {
    case 'u8':
      checkInt(cmd, spec.name, v, 0xff);
      return 1;
    case 'u16':
      checkInt(cmd, spec.name, v, 0xffff);
      return 2;
    case 'u32':
      checkInt(cmd, spec.name, v, 0xffffffff);
      return 4;
    case 'cstring':
      return cstringSize(cmd, spec.name, v, spec.max);
    case 'time': {
      const size = cstringSize(cmd, spec.name, v, 17);
      if (size !== 1 && !TIME_PATTERN.test(v as string)) {
        throw new SmppEncodeError(
          cmd,
          spec.name,
          `must be empty or a 16-character SMPP time (YYMMDDhhmmsstnnp), got ${show(v)}`,
        );
      }
      return size;
    }
    case 'sm': {
      if (!Buffer.isBuffer(v)) throw new SmppEncodeError(cmd, 'short_message', 'must be a Buffer');
      if (v.length > MAX_SHORT_MESSAGE_LENGTH) {
        throw new SmppEncodeError(
          cmd,
          'short_message',
          `sm_length ${v.length} > ${MAX_SHORT_MESSAGE_LENGTH}: send long content in message_payload`,
        );
      }
      return 1 + v.length;
    }
    case 'dests': {
      const list = v as DestAddress[];
      if (!Array.isArray(list) || list.length < 1 || list.length > 254) {
        throw new SmppEncodeError(cmd, 'dest_address', 'number_of_dests must be from 1 to 254');
      }
      let size = 1;
      list.forEach((d, i) => {
        const at = `dest_address[${i}]`;
        if (!isObject(d)) throw new SmppEncodeError(cmd, at, 'must be a destination object');
        if (d.dest_flag === 1) {
          checkInt(cmd, `${at}.dest_addr_ton`, d.dest_addr_ton, 0xff);
          checkInt(cmd, `${at}.dest_addr_npi`, d.dest_addr_npi, 0xff);
          size += 3 + cstringSize(cmd, `${at}.destination_addr`, d.destination_addr, 21);
        } else if (d.dest_flag === 2) {
          size += 1 + cstringSize(cmd, `${at}.dl_name`, d.dl_name, 21);
        } else {
          throw new SmppEncodeError(
            cmd,
            `${at}.dest_flag`,
            'must be 1 (SME address) or 2 (distribution list)',
          );
        }
      });
      return size;
    }
    case 'unsuccess': {
      const list = v as UnsuccessSme[];
      if (!Array.isArray(list) || list.length > 255) {
        throw new SmppEncodeError(cmd, 'unsuccess_sme', 'no_unsuccess must be from 0 to 255');
      }
      let size = 1;
      list.forEach((u, i) => {
        const at = `unsuccess_sme[${i}]`;
        if (!isObject(u)) throw new SmppEncodeError(cmd, at, 'must be an unsuccess_sme object');
        checkInt(cmd, `${at}.dest_addr_ton`, u.dest_addr_ton, 0xff);
        checkInt(cmd, `${at}.dest_addr_npi`, u.dest_addr_npi, 0xff);
        checkInt(cmd, `${at}.error_status_code`, u.error_status_code, 0xffffffff);
        size += 6 + cstringSize(cmd, `${at}.destination_addr`, u.destination_addr, 21);
      });
      return size;
    }
  }
}

function tlvSize(cmd: string, t: Tlv, index: number): number {
  const label = `tlvs[${index}]`;
  if (!isObject(t)) throw new SmppEncodeError(cmd, label, 'must be a { tag, value } object');
  checkInt(cmd, `${label}.tag`, t.tag, 0xffff);
  const known = TLV_TABLE.get(t.tag);
  const name = known ? known.name : `${label} (tag 0x${t.tag.toString(16).padStart(4, '0')})`;
  const v = t.value;
  let len: number;
  if (Buffer.isBuffer(v)) len = v.length;
  else if (typeof v === 'number') {
    if (!known || known.type === 'cstring' || known.type === 'octets') {
      throw new SmppEncodeError(
        cmd,
        name,
        'a number value needs an integer TLV type; give raw bytes instead',
      );
    }
    len = known.type === 'int1' ? 1 : known.type === 'int2' ? 2 : 4;
    checkInt(cmd, name, v, len === 4 ? 0xffffffff : len === 2 ? 0xffff : 0xff);
  } else if (typeof v === 'string') {
    if (known?.type !== 'cstring') {
      throw new SmppEncodeError(
        cmd,
        name,
        'a string value needs a C-Octet String TLV; give raw bytes instead',
      );
    }
    len = cstringSize(cmd, name, v, 0x10000);
  } else {
    throw new SmppEncodeError(cmd, name, 'value must be a number, a string or a Buffer');
  }
  if (len > 0xffff) throw new SmppEncodeError(cmd, name, `value is ${len} octets; a TLV holds at most 65535`);
  return 4 + len;
}

function writeCString(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  // Short strings: a byte loop beats buf.write's call overhead. Chars were checked ≤ 0xFF.
  if (n < 24) {
    for (let i = 0; i < n; i++) buf[off + i] = s.charCodeAt(i);
  } else {
    buf.write(s, off, n, 'latin1');
  }
  buf[off + n] = 0;
  return off + n + 1;
}

function isEmptyBody(
  specs: readonly FieldSpec[],
  fields: Record<string, unknown>,
  tlvs: Tlv[] | undefined,
): boolean {
  if (tlvs && tlvs.length > 0) return false;
  for (const spec of specs) {
    const v = fields[spec.name];
    if (v === undefined || v === '' || v === 0) continue;
    if ((Buffer.isBuffer(v) || Array.isArray(v)) && v.length === 0) continue;
    return false;
  }
  return true;
}

/**
 * encodePdu by interpreting LAYOUTS field by field, without the compiled fast path. It is the
 * reference the compiled encoders must agree with, and the path that words every error and sends
 * failed responses. Exported for the differential tests only.
 * @internal
 */
export function encodePduByLayout(pdu: Pdu, options: EncodeOptions = {}): Buffer {
  if (!isObject(pdu)) throw new SmppEncodeError('pdu', 'command', 'a PDU must be an object');
  const cmd = pdu.command;
  const id =
    typeof cmd === 'string' && Object.hasOwn(CommandId, cmd) ? CommandId[cmd as CommandName] : undefined;
  if (id === undefined) throw new SmppEncodeError(show(cmd), 'command', 'unknown command');
  if (pdu.tlvs !== undefined && !Array.isArray(pdu.tlvs)) {
    throw new SmppEncodeError(cmd, 'tlvs', 'must be an array of { tag, value }');
  }
  const fields = pdu as unknown as Record<string, unknown>;
  const specs = LAYOUTS[cmd] as readonly FieldSpec[];

  checkInt(cmd, 'command_status', pdu.command_status, 0xffffffff);
  checkInt(cmd, 'sequence_number', pdu.sequence_number, MAX_SEQUENCE_NUMBER);
  if (!isResponseId(id) && pdu.command_status !== 0) {
    throw new SmppEncodeError(cmd, 'command_status', 'must be 0 in a request');
  }

  // 3.4: a failed response carries no body (reference §1.4). Send header only when there is nothing to say.
  if (pdu.command_status !== 0 && isResponseId(id) && isEmptyBody(specs, fields, pdu.tlvs)) {
    const head = Buffer.allocUnsafe(HEADER_LENGTH);
    head.writeUInt32BE(HEADER_LENGTH, 0);
    head.writeUInt32BE(id, 4);
    head.writeUInt32BE(pdu.command_status, 8);
    head.writeUInt32BE(pdu.sequence_number, 12);
    return head;
  }

  let length = HEADER_LENGTH;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    length += fieldSize(cmd, spec, fields[spec.name]);
  }
  const tlvs = pdu.tlvs;
  if (tlvs && tlvs.length > 0) {
    if (!TAKES_TLVS.has(cmd)) throw new SmppEncodeError(cmd, 'tlvs', 'this PDU carries no TLVs');
    for (let i = 0; i < tlvs.length; i++) {
      const t = tlvs[i]!;
      length += tlvSize(cmd, t, i);
      if (t.tag === TlvTag.message_payload && (fields.short_message as Buffer | undefined)?.length) {
        throw new SmppEncodeError(
          cmd,
          'message_payload',
          'short_message and message_payload must not both carry data',
        );
      }
    }
  }
  const maxPduLength = options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  if (length > maxPduLength) {
    throw new SmppEncodeError(
      cmd,
      'command_length',
      `${length} octets exceeds the maximum PDU length ${maxPduLength}`,
    );
  }

  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt32BE(length, 0);
  buf.writeUInt32BE(id, 4);
  buf.writeUInt32BE(pdu.command_status, 8);
  buf.writeUInt32BE(pdu.sequence_number, 12);
  let off = HEADER_LENGTH;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const v = fields[spec.name];
    switch (spec.kind) {
      case 'u8':
        buf[off++] = v as number;
        break;
      case 'u16':
        buf.writeUInt16BE(v as number, off);
        off += 2;
        break;
      case 'u32':
        buf.writeUInt32BE(v as number, off);
        off += 4;
        break;
      case 'cstring':
      case 'time':
        off = writeCString(buf, off, v as string);
        break;
      case 'sm': {
        const sm = v as Buffer;
        buf[off++] = sm.length;
        off += sm.copy(buf, off);
        break;
      }
      case 'dests': {
        const list = v as DestAddress[];
        buf[off++] = list.length;
        for (const d of list) {
          buf[off++] = d.dest_flag;
          if (d.dest_flag === 1) {
            buf[off++] = d.dest_addr_ton;
            buf[off++] = d.dest_addr_npi;
            off = writeCString(buf, off, d.destination_addr);
          } else {
            off = writeCString(buf, off, d.dl_name);
          }
        }
        break;
      }
      case 'unsuccess': {
        const list = v as UnsuccessSme[];
        buf[off++] = list.length;
        for (const u of list) {
          buf[off++] = u.dest_addr_ton;
          buf[off++] = u.dest_addr_npi;
          off = writeCString(buf, off, u.destination_addr);
          buf.writeUInt32BE(u.error_status_code, off);
          off += 4;
        }
        break;
      }
    }
  }
  if (tlvs) {
    for (const t of tlvs) {
      buf.writeUInt16BE(t.tag, off);
      const v = t.value;
      if (Buffer.isBuffer(v)) {
        buf.writeUInt16BE(v.length, off + 2);
        off += 4;
        off += v.copy(buf, off);
      } else if (typeof v === 'string') {
        buf.writeUInt16BE(v.length + 1, off + 2);
        off = writeCString(buf, off + 4, v);
      } else {
        const type = TLV_TABLE.get(t.tag)!.type;
        const len = type === 'int1' ? 1 : type === 'int2' ? 2 : 4;
        buf.writeUInt16BE(len, off + 2);
        buf.writeUIntBE(v, off + 4, len);
        off += 4 + len;
      }
    }
  }
  return buf;
}

// ---------------------------------------------------------------- compiled encoders (fast path)

/**
 * Sizes, checks and writes one command's PDU in straight-line code, or returns undefined as soon
 * as anything is unusual (a value out of bounds, a nonzero command_status, a bad TLV): then
 * encodePdu falls back to encodePduByLayout, which throws the SmppEncodeError naming the field
 * or sends the failed response. Accepting exactly what the interpreter accepts, and writing the
 * same octets, is what the differential tests in test/protocol/codec.test.ts check.
 */
type CompiledEncoder = (pdu: Record<string, unknown>, maxPduLength: number) => Buffer | undefined;

/** Octets of a C-Octet String with at most `max` octets (NUL included), or -1 if it cannot be one. */
function cstringOctets(v: unknown, max: number): number {
  if (typeof v !== 'string' || v.length >= max) return -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0 || c > 0xff) return -1;
  }
  return v.length + 1;
}

function timeOctets(v: unknown): number {
  if (v === '') return 1;
  return typeof v === 'string' && v.length === 16 && TIME_PATTERN.test(v) ? 17 : -1;
}

const isU8 = (v: unknown): boolean => typeof v === 'number' && (v & 0xff) === v;
const isU16 = (v: unknown): boolean => typeof v === 'number' && (v & 0xffff) === v;
const isU32 = (v: unknown): boolean => typeof v === 'number' && v >>> 0 === v;

function destsOctets(v: unknown): number {
  if (!Array.isArray(v) || v.length < 1 || v.length > 254) return -1;
  let size = 1;
  for (const d of v as unknown[]) {
    if (!isObject(d)) return -1;
    const e = d as Record<string, unknown>;
    let n: number;
    if (e.dest_flag === 1) {
      if (!isU8(e.dest_addr_ton) || !isU8(e.dest_addr_npi)) return -1;
      n = cstringOctets(e.destination_addr, 21);
      size += 3;
    } else if (e.dest_flag === 2) {
      n = cstringOctets(e.dl_name, 21);
      size += 1;
    } else return -1;
    if (n < 0) return -1;
    size += n;
  }
  return size;
}

function unsuccessOctets(v: unknown): number {
  if (!Array.isArray(v) || v.length > 255) return -1;
  let size = 1;
  for (const u of v as unknown[]) {
    if (!isObject(u)) return -1;
    const e = u as Record<string, unknown>;
    if (!isU8(e.dest_addr_ton) || !isU8(e.dest_addr_npi) || !isU32(e.error_status_code)) return -1;
    const n = cstringOctets(e.destination_addr, 21);
    if (n < 0) return -1;
    size += 6 + n;
  }
  return size;
}

const INT_TLV_OCTETS = { int1: 1, int2: 2, int4: 4 } as const;

/** Octets of a TLV list (headers included), or -1 for anything encodePduByLayout would refuse. */
function tlvsOctets(tlvs: unknown, takesTlvs: boolean, hasShortMessage: boolean): number {
  if (tlvs === undefined) return 0;
  if (!Array.isArray(tlvs)) return -1;
  if (tlvs.length > 0 && !takesTlvs) return -1;
  let size = 0;
  for (const t of tlvs as unknown[]) {
    if (!isObject(t)) return -1;
    const { tag, value } = t as Record<string, unknown>;
    if (!isU16(tag)) return -1;
    if (tag === MESSAGE_PAYLOAD && hasShortMessage) return -1;
    const type = TLV_TABLE.get(tag as number)?.type;
    let len: number;
    if (Buffer.isBuffer(value)) len = value.length;
    else if (typeof value === 'number') {
      if (type === undefined || type === 'cstring' || type === 'octets') return -1;
      len = INT_TLV_OCTETS[type];
      if (len === 4 ? !isU32(value) : len === 2 ? !isU16(value) : !isU8(value)) return -1;
    } else if (typeof value === 'string') {
      if (type !== 'cstring') return -1;
      len = cstringOctets(value, 0x10000);
    } else return -1;
    if (len < 0 || len > 0xffff) return -1;
    size += 4 + len;
  }
  return size;
}

function writeDests(buf: Buffer, off: number, list: DestAddress[]): number {
  buf[off++] = list.length;
  for (const d of list) {
    buf[off++] = d.dest_flag;
    if (d.dest_flag === 1) {
      buf[off++] = d.dest_addr_ton;
      buf[off++] = d.dest_addr_npi;
      off = writeCString(buf, off, d.destination_addr);
    } else off = writeCString(buf, off, d.dl_name);
  }
  return off;
}

function writeUnsuccess(buf: Buffer, off: number, list: UnsuccessSme[]): number {
  buf[off++] = list.length;
  for (const u of list) {
    buf[off++] = u.dest_addr_ton;
    buf[off++] = u.dest_addr_npi;
    off = writeCString(buf, off, u.destination_addr);
    buf.writeUInt32BE(u.error_status_code, off);
    off += 4;
  }
  return off;
}

function writeTlvs(buf: Buffer, off: number, tlvs: readonly Tlv[]): number {
  for (const t of tlvs) {
    buf[off] = t.tag >>> 8;
    buf[off + 1] = t.tag & 0xff;
    const v = t.value;
    if (Buffer.isBuffer(v)) {
      buf.writeUInt16BE(v.length, off + 2);
      off += 4;
      if (v.length <= 16) for (let i = 0; i < v.length; i++) buf[off++] = v[i]!;
      else off += v.copy(buf, off);
    } else if (typeof v === 'string') {
      buf.writeUInt16BE(v.length + 1, off + 2);
      off = writeCString(buf, off + 4, v);
    } else {
      const len = INT_TLV_OCTETS[TLV_TABLE.get(t.tag)!.type as keyof typeof INT_TLV_OCTETS];
      buf[off + 2] = 0;
      buf[off + 3] = len;
      buf.writeUIntBE(v, off + 4, len);
      off += 4 + len;
    }
  }
  return off;
}

function writeBytes(buf: Buffer, off: number, bytes: Buffer): number {
  const n = bytes.length;
  if (n <= 16) for (let i = 0; i < n; i++) buf[off + i] = bytes[i]!;
  else bytes.copy(buf, off);
  return off + n;
}

/** Source of one command's encoder (see CompiledEncoder). Field names are checked identifiers. */
function encoderSource(command: CommandName): string {
  const specs = LAYOUTS[command] as readonly FieldSpec[];
  const id = CommandId[command];
  const check: string[] = [
    'const status = p.command_status;',
    'const seq = p.sequence_number;',
    // Only successful PDUs: a failed response may go header-only, which encodePduByLayout decides.
    `if (status !== 0 || typeof seq !== 'number' || seq >>> 0 !== seq || seq > ${MAX_SEQUENCE_NUMBER}) return undefined;`,
    'let size = 16;',
    'let n = 0;',
  ];
  const write: string[] = [
    'const buf = Buffer.allocUnsafe(size);',
    'buf.writeUInt32BE(size, 0);',
    `buf.writeUInt32BE(${id}, 4);`,
    'buf.writeUInt32BE(0, 8);',
    'buf.writeUInt32BE(seq, 12);',
    'let off = 16;',
  ];
  let sm: string | undefined;
  for (let k = 0; k < specs.length; k++) {
    const spec = specs[k]!;
    const v = `f${k}`;
    check.push(`const ${v} = p.${identifier(spec.name)};`);
    switch (spec.kind) {
      case 'u8':
        check.push(`if (!isU8(${v})) return undefined;`, 'size += 1;');
        write.push(`buf[off++] = ${v};`);
        break;
      case 'u16':
        check.push(`if (!isU16(${v})) return undefined;`, 'size += 2;');
        write.push(`buf.writeUInt16BE(${v}, off);`, 'off += 2;');
        break;
      case 'u32':
        check.push(`if (!isU32(${v})) return undefined;`, 'size += 4;');
        write.push(`buf.writeUInt32BE(${v}, off);`, 'off += 4;');
        break;
      case 'cstring':
      case 'time':
        check.push(
          spec.kind === 'time' ? `n = timeOctets(${v});` : `n = cstringOctets(${v}, ${spec.max});`,
          'if (n < 0) return undefined;',
          'size += n;',
        );
        write.push(`off = writeCString(buf, off, ${v});`);
        break;
      case 'sm':
        sm = v;
        check.push(
          `if (!Buffer.isBuffer(${v}) || ${v}.length > ${MAX_SHORT_MESSAGE_LENGTH}) return undefined;`,
          `size += 1 + ${v}.length;`,
        );
        write.push(`buf[off++] = ${v}.length;`, `off = writeBytes(buf, off, ${v});`);
        break;
      case 'dests':
      case 'unsuccess': {
        const kind = spec.kind === 'dests' ? 'Dests' : 'Unsuccess';
        check.push(
          `n = ${spec.kind === 'dests' ? 'destsOctets' : 'unsuccessOctets'}(${v});`,
          'if (n < 0) return undefined;',
          'size += n;',
        );
        write.push(`off = write${kind}(buf, off, ${v});`);
        break;
      }
    }
  }
  check.push(
    'const tlvs = p.tlvs;',
    `n = tlvsOctets(tlvs, ${TAKES_TLVS.has(command)}, ${sm ? `${sm}.length > 0` : 'false'});`,
    'if (n < 0) return undefined;',
    'size += n;',
    'if (size > maxPduLength) return undefined;',
  );
  write.push('if (n > 0) writeTlvs(buf, off, tlvs);', 'return buf;');
  return `return function encode_${command}(p, maxPduLength) {\n  ${[...check, ...write].join('\n  ')}\n};`;
}

const ENCODER_HELPERS = {
  Buffer,
  isU8,
  isU16,
  isU32,
  cstringOctets,
  timeOctets,
  destsOctets,
  unsuccessOctets,
  tlvsOctets,
  writeCString,
  writeBytes,
  writeDests,
  writeUnsuccess,
  writeTlvs,
};

/** A LAYOUTS field name, checked before it goes into generated source (it always is one). */
function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`layout field name ${name} is not an identifier`);
  return name;
}

/**
 * new Function over the given helpers. The source is built from LAYOUTS only, never from input.
 * Undefined when code generation from strings is disallowed: the interpreter then does the work.
 */
function compile<F>(source: string, helpers: Record<string, unknown>): F | undefined {
  try {
    const names = Object.keys(helpers);
    return new Function(...names, `'use strict';\n${source}`)(...names.map((k) => helpers[k])) as F;
  } catch (e) {
    // node --disallow-code-generation-from-strings: the interpreter does all the work, just slower.
    if (e instanceof EvalError) return undefined;
    throw e;
  }
}

const ENCODERS = new Map<string, CompiledEncoder | undefined>(
  (Object.keys(LAYOUTS) as CommandName[]).map((command) => [
    command,
    compile<CompiledEncoder>(encoderSource(command), ENCODER_HELPERS),
  ]),
);

/** Encodes a PDU, or throws SmppEncodeError naming the first field that breaks the spec. */
export function encodePdu(pdu: Pdu, options: EncodeOptions = {}): Buffer {
  if (isObject(pdu) && typeof pdu.command === 'string') {
    const compiled = ENCODERS.get(pdu.command);
    if (compiled !== undefined) {
      const out = compiled(
        pdu as unknown as Record<string, unknown>,
        options.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
      );
      if (out !== undefined) return out;
    }
  }
  return encodePduByLayout(pdu, options);
}

// ---------------------------------------------------------------- decode

/** Thrown inside the field reader only; decodePdu turns it into a SmppDecodeError value. */
class FieldError {
  constructor(
    readonly message: string,
    readonly status: number,
  ) {}
}

function readCString(buf: Buffer, off: number, end: number, field: string): [string, number] {
  // Fast path: most fields are short; scan for the NUL by hand.
  let i = off;
  while (i < end && buf[i] !== 0) i++;
  if (i >= end) throw new FieldError(`${field}: no NUL before the end of the PDU`, ESME_RINVCMDLEN);
  let s: string;
  const n = i - off;
  if (n === 0) s = '';
  else if (n < 16) {
    s = '';
    for (let k = off; k < i; k++) s += String.fromCharCode(buf[k]!);
  } else s = buf.toString('latin1', off, i);
  return [s, i + 1];
}

function need(off: number, n: number, end: number, field: string): void {
  if (off + n > end) throw new FieldError(`${field}: the PDU ends early`, ESME_RINVCMDLEN);
}

function readHeader(buf: Buffer): PduHeader {
  return {
    command_length: buf.readUInt32BE(0),
    command_id: buf.readUInt32BE(4),
    command_status: buf.readUInt32BE(8),
    sequence_number: buf.readUInt32BE(12),
  };
}

function recoverable(message: string, header: PduHeader, status: number, buf: Buffer): DecodeResult {
  const name = commandName(header.command_id) ?? `0x${header.command_id.toString(16).padStart(8, '0')}`;
  return {
    ok: false,
    error: new SmppDecodeError(
      `${name} seq ${header.sequence_number}: ${message}; bytes ${previewBytes(buf, 48)}`,
      {
        recoverable: true,
        header,
        commandStatus: status,
      },
    ),
  };
}

/**
 * decodePdu by interpreting LAYOUTS field by field, without the compiled fast path. It is the
 * reference the compiled decoders must agree with, and the path for everything they decline
 * (failed responses, malformed bodies). Exported for the differential tests only.
 * @internal
 */
export function decodePduByLayout(buf: Buffer): DecodeResult {
  if (buf.length < HEADER_LENGTH || buf.readUInt32BE(0) !== buf.length) {
    return {
      ok: false,
      error: new SmppDecodeError(
        `frame of ${buf.length} octets does not match its command_length; bytes ${previewBytes(buf)}`,
        { recoverable: false, commandStatus: ESME_RINVCMDLEN },
      ),
    };
  }
  const id = buf.readUInt32BE(4);
  const status = buf.readUInt32BE(8);
  const seq = buf.readUInt32BE(12);
  const cmd = commandName(id);
  if (cmd === undefined) {
    return recoverable('unknown command_id', readHeader(buf), ESME_RINVCMDID, buf);
  }
  const end = buf.length;
  // Failed responses often come with no body, a lone NUL or a full body (reference §1.4): read what is there.
  const lenient = status !== 0 && isResponseId(id);
  const specs = LAYOUTS[cmd] as readonly FieldSpec[];
  const pdu: Record<string, unknown> = { command: cmd, command_status: status, sequence_number: seq };
  let off = HEADER_LENGTH;
  let i = 0;
  try {
    for (; i < specs.length; i++) {
      const spec = specs[i]!;
      switch (spec.kind) {
        case 'u8':
          need(off, 1, end, spec.name);
          pdu[spec.name] = buf[off++];
          break;
        case 'u16':
          need(off, 2, end, spec.name);
          pdu[spec.name] = buf.readUInt16BE(off);
          off += 2;
          break;
        case 'u32':
          need(off, 4, end, spec.name);
          pdu[spec.name] = buf.readUInt32BE(off);
          off += 4;
          break;
        case 'cstring':
        case 'time': {
          const [s, next] = readCString(buf, off, end, spec.name);
          pdu[spec.name] = s;
          off = next;
          break;
        }
        case 'sm': {
          need(off, 1, end, 'sm_length');
          const smLength = buf[off++]!;
          if (off + smLength > end) {
            throw new FieldError(`sm_length ${smLength} runs past the end of the PDU`, ESME_RINVMSGLEN);
          }
          pdu.short_message = Buffer.from(buf.subarray(off, off + smLength));
          off += smLength;
          break;
        }
        case 'dests': {
          need(off, 1, end, 'number_of_dests');
          const count = buf[off++]!;
          const list: DestAddress[] = [];
          for (let k = 0; k < count; k++) {
            need(off, 1, end, `dest_address[${k}].dest_flag`);
            const flag = buf[off++];
            if (flag === 1) {
              need(off, 2, end, `dest_address[${k}]`);
              const ton = buf[off++]!;
              const npi = buf[off++]!;
              const [addr, next] = readCString(buf, off, end, `dest_address[${k}].destination_addr`);
              off = next;
              list.push({ dest_flag: 1, dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: addr });
            } else if (flag === 2) {
              const [dl, next] = readCString(buf, off, end, `dest_address[${k}].dl_name`);
              off = next;
              list.push({ dest_flag: 2, dl_name: dl });
            } else {
              throw new FieldError(`dest_address[${k}].dest_flag ${flag} is neither 1 nor 2`, 0x40);
            }
          }
          pdu.dest_address = list;
          break;
        }
        case 'unsuccess': {
          need(off, 1, end, 'no_unsuccess');
          const count = buf[off++]!;
          const list: UnsuccessSme[] = [];
          for (let k = 0; k < count; k++) {
            need(off, 2, end, `unsuccess_sme[${k}]`);
            const ton = buf[off++]!;
            const npi = buf[off++]!;
            const [addr, next] = readCString(buf, off, end, `unsuccess_sme[${k}].destination_addr`);
            off = next;
            need(off, 4, end, `unsuccess_sme[${k}].error_status_code`);
            const code = buf.readUInt32BE(off);
            off += 4;
            list.push({
              dest_addr_ton: ton,
              dest_addr_npi: npi,
              destination_addr: addr,
              error_status_code: code,
            });
          }
          pdu.unsuccess_sme = list;
          break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    if (!lenient) return recoverable(e.message, readHeader(buf), e.status, buf);
    // Lenient: fill the fields that were not there with their empty values.
    for (; i < specs.length; i++) {
      const spec = specs[i]!;
      pdu[spec.name] =
        spec.kind === 'cstring' || spec.kind === 'time'
          ? ''
          : spec.kind === 'sm'
            ? Buffer.alloc(0)
            : spec.kind === 'dests' || spec.kind === 'unsuccess'
              ? []
              : 0;
    }
    off = end;
  }

  const tlvs: Tlv[] = [];
  if (TAKES_TLVS.has(cmd)) {
    while (off < end) {
      if (end - off < 4) {
        if (lenient) break;
        return recoverable(
          `TLV area has ${end - off} stray octets`,
          readHeader(buf),
          ESME_RINVTLVSTREAM,
          buf,
        );
      }
      const tag = buf.readUInt16BE(off);
      const len = buf.readUInt16BE(off + 2);
      const start = off + 4;
      if (start + len > end) {
        if (lenient) break;
        return recoverable(
          `TLV 0x${tag.toString(16).padStart(4, '0')} length ${len} runs past the end of the PDU`,
          readHeader(buf),
          ESME_RINVTLVSTREAM,
          buf,
        );
      }
      tlvs.push({ tag, value: decodeTlvValue(tag, buf, start, start + len) });
      off = start + len;
    }
  }
  pdu.tlvs = tlvs;
  return { ok: true, pdu: pdu as unknown as Pdu };
}

// ---------------------------------------------------------------- compiled decoders (fast path)

/**
 * Reads the mandatory fields and TLVs of one command, or returns undefined when the body is not
 * well formed (then decodePdu falls back to decodePduByLayout, which says why or reads leniently).
 */
type CompiledDecoder = (buf: Buffer, end: number, status: number, seq: number) => Pdu | undefined;

/** Copies octets out of the frame, so a decoded PDU never pins the socket buffer it came from. */
function copyBytes(buf: Buffer, start: number, end: number): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n <= 16) for (let i = 0; i < n; i++) out[i] = buf[start + i]!;
  else buf.copy(out, 0, start, end);
  return out;
}

/** C-Octet String from its first octet to the NUL at `nul`; short ones without a native call. */
function latin1(buf: Buffer, start: number, nul: number): string {
  const n = nul - start;
  if (n === 0) return '';
  if (n > 6) return buf.toString('latin1', start, nul);
  let s = '';
  for (let i = start; i < nul; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** Where the last list or TLV reader stopped (the compiled code reads it back). */
const cursor = { off: 0 };

function readTlvsFast(buf: Buffer, off: number, end: number): Tlv[] | undefined {
  const tlvs: Tlv[] = [];
  while (off < end) {
    if (end - off < 4) return undefined;
    const tag = (buf[off]! << 8) | buf[off + 1]!;
    const start = off + 4;
    const stop = start + ((buf[off + 2]! << 8) | buf[off + 3]!);
    if (stop > end) return undefined;
    tlvs.push({ tag, value: decodeTlvValue(tag, buf, start, stop) });
    off = stop;
  }
  return tlvs;
}

function readCStringFast(buf: Buffer, off: number, end: number): string | undefined {
  let i = off;
  while (i < end && buf[i] !== 0) i++;
  if (i === end) return undefined;
  cursor.off = i + 1;
  return latin1(buf, off, i);
}

function readDestsFast(buf: Buffer, off: number, end: number): DestAddress[] | undefined {
  if (off >= end) return undefined;
  const count = buf[off++]!;
  const list: DestAddress[] = [];
  for (let k = 0; k < count; k++) {
    if (off >= end) return undefined;
    const flag = buf[off++];
    if (flag === 1) {
      if (off + 2 > end) return undefined;
      const ton = buf[off++]!;
      const npi = buf[off++]!;
      const addr = readCStringFast(buf, off, end);
      if (addr === undefined) return undefined;
      off = cursor.off;
      list.push({ dest_flag: 1, dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: addr });
    } else if (flag === 2) {
      const dl = readCStringFast(buf, off, end);
      if (dl === undefined) return undefined;
      off = cursor.off;
      list.push({ dest_flag: 2, dl_name: dl });
    } else return undefined;
  }
  cursor.off = off;
  return list;
}

function readUnsuccessFast(buf: Buffer, off: number, end: number): UnsuccessSme[] | undefined {
  if (off >= end) return undefined;
  const count = buf[off++]!;
  const list: UnsuccessSme[] = [];
  for (let k = 0; k < count; k++) {
    if (off + 2 > end) return undefined;
    const ton = buf[off++]!;
    const npi = buf[off++]!;
    const addr = readCStringFast(buf, off, end);
    if (addr === undefined) return undefined;
    off = cursor.off;
    if (off + 4 > end) return undefined;
    const code = buf.readUInt32BE(off);
    off += 4;
    list.push({ dest_addr_ton: ton, dest_addr_npi: npi, destination_addr: addr, error_status_code: code });
  }
  cursor.off = off;
  return list;
}

const FIXED_SIZE = { u8: 1, u16: 2, u32: 4 } as const;
const READ_FIXED = {
  u8: (at: string) => `buf[${at}]`,
  u16: (at: string) => `((buf[${at}] << 8) | buf[${at} + 1])`,
  u32: (at: string) => `buf.readUInt32BE(${at})`,
} as const;

/**
 * Source of one command's decoder: straight-line reads into locals and one object literal, so
 * every PDU of a command gets the same hidden class and no field goes through a keyed store.
 * Names come from LAYOUTS (checked to be identifiers); nothing from the wire reaches the source.
 */
function decoderSource(command: CommandName): string {
  const specs = LAYOUTS[command] as readonly FieldSpec[];
  const body: string[] = ['let off = 16;', 'let i = 0;', 'let n = 0;'];
  const fields: string[] = [];
  for (let k = 0; k < specs.length; k++) {
    const spec = specs[k]!;
    const v = `f${k}`;
    fields.push(`${identifier(spec.name)}: ${v}`);
    switch (spec.kind) {
      case 'u8':
      case 'u16':
      case 'u32': {
        // One bounds check for a run of fixed-size fields.
        const prev = specs[k - 1];
        if (!prev || !(prev.kind in FIXED_SIZE)) {
          let run = 0;
          for (let j = k; j < specs.length && specs[j]!.kind in FIXED_SIZE; j++) {
            run += FIXED_SIZE[specs[j]!.kind as keyof typeof FIXED_SIZE];
          }
          body.push(`if (off + ${run} > end) return undefined;`);
        }
        body.push(`const ${v} = ${READ_FIXED[spec.kind]('off')};`, `off += ${FIXED_SIZE[spec.kind]};`);
        break;
      }
      case 'cstring':
      case 'time':
        body.push(
          'i = off;',
          'while (i < end && buf[i] !== 0) i++;',
          'if (i === end) return undefined;',
          `const ${v} = latin1(buf, off, i);`,
          'off = i + 1;',
        );
        break;
      case 'sm':
        body.push(
          'if (off >= end) return undefined;',
          'n = buf[off++];',
          'if (off + n > end) return undefined;',
          `const ${v} = copyBytes(buf, off, off + n);`,
          'off += n;',
        );
        break;
      case 'dests':
      case 'unsuccess':
        body.push(
          `const ${v} = ${spec.kind === 'dests' ? 'readDests' : 'readUnsuccess'}(buf, off, end);`,
          `if (${v} === undefined) return undefined;`,
          'off = cursor.off;',
        );
        break;
    }
  }
  // Commands without TLVs ignore stray octets after their fields, as decodePduByLayout does.
  if (TAKES_TLVS.has(command)) {
    body.push(
      'const tlvs = off === end ? [] : readTlvs(buf, off, end);',
      'if (tlvs === undefined) return undefined;',
    );
  } else body.push('const tlvs = [];');
  body.push(
    `return { command: ${JSON.stringify(command)}, command_status: status, sequence_number: seq${fields.map((f) => `, ${f}`).join('')}, tlvs };`,
  );
  return `return function decode_${command}(buf, end, status, seq) {\n  ${body.join('\n  ')}\n};`;
}

function compileDecoder(command: CommandName): CompiledDecoder | undefined {
  return compile<CompiledDecoder>(decoderSource(command), {
    latin1,
    copyBytes,
    readTlvs: readTlvsFast,
    readDests: readDestsFast,
    readUnsuccess: readUnsuccessFast,
    cursor,
  });
}

interface DecoderEntry {
  /** Responses with a nonzero status are read leniently by decodePduByLayout (reference §1.4). */
  response: boolean;
  compiled: CompiledDecoder | undefined;
}

const DECODERS = new Map<number, DecoderEntry>(
  (Object.keys(LAYOUTS) as CommandName[]).map((command) => [
    CommandId[command],
    { response: isResponseId(CommandId[command]), compiled: compileDecoder(command) },
  ]),
);

/**
 * Decodes one whole frame (exactly command_length bytes, as the Framer yields them).
 * Never throws: returns the PDU, a recoverable error (header readable) or an unrecoverable one.
 */
export function decodePdu(buf: Buffer): DecodeResult {
  const end = buf.length;
  if (end >= HEADER_LENGTH && buf.readUInt32BE(0) === end) {
    const entry = DECODERS.get(buf.readUInt32BE(4));
    if (entry?.compiled !== undefined) {
      const status = buf.readUInt32BE(8);
      if (status === 0 || !entry.response) {
        const pdu = entry.compiled(buf, end, status, buf.readUInt32BE(12));
        if (pdu !== undefined) return { ok: true, pdu };
      }
    }
  }
  return decodePduByLayout(buf);
}

/** Reads the header of a frame of at least 16 octets. */
export function peekHeader(buf: Buffer): PduHeader {
  return readHeader(buf);
}
