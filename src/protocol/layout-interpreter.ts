/**
 * The layout interpreter: encodePduByLayout and decodePduByLayout walk the LAYOUTS data field
 * by field. They are the reference the compiled codec (layout-compiler.ts) must agree with, and
 * the path for everything it declines: they word every SmppEncodeError (naming the field), send
 * failed responses header-only, and read failed responses leniently (reference §1.4).
 * Strict on what it emits, tolerant on what it reads, and never reads past command_length.
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
import {
  type DecodeResult,
  type EncodeOptions,
  isObject,
  MAX_SHORT_MESSAGE_LENGTH,
  TIME_PATTERN,
  writeCString,
} from './wire-format.js';

const ESME_RINVMSGLEN = 0x01;
const ESME_RINVCMDLEN = 0x02;
const ESME_RINVCMDID = 0x03;
const ESME_RINVTLVSTREAM = 0xc0;

// ---------------------------------------------------------------- encode

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
