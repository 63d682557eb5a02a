/**
 * The layout compiler: from the LAYOUTS data it generates one straight-line encoder and one
 * decoder per command (new Function over the helpers below; the source comes from LAYOUTS only,
 * never from input). They are the fast path of codec.ts and decline (return undefined) anything
 * unusual, which the layout interpreter then handles; test/protocol/codec.test.ts checks the two
 * agree. Without code generation (--disallow-code-generation-from-strings) both maps hold
 * undefined and the interpreter does all the work.
 */
import { CommandId, type CommandName, isResponseId, MAX_SEQUENCE_NUMBER, TlvTag } from './constants.js';
import { type DestAddress, type FieldSpec, LAYOUTS, TAKES_TLVS, type UnsuccessSme } from './layouts.js';
import type { Pdu } from './pdu.js';
import { decodeTlvValue, TLV_TABLE, type Tlv } from './tlv.js';
import { isObject, MAX_SHORT_MESSAGE_LENGTH, TIME_PATTERN, writeCString } from './wire-format.js';

const MESSAGE_PAYLOAD = TlvTag.message_payload;

// ---------------------------------------------------------------- encoders

/**
 * Sizes, checks and writes one command's PDU in straight-line code, or returns undefined as soon
 * as anything is unusual (a value out of bounds, a nonzero command_status, a bad TLV): then
 * encodePdu falls back to encodePduByLayout, which throws the SmppEncodeError naming the field
 * or sends the failed response. Accepting exactly what the interpreter accepts, and writing the
 * same octets, is what the differential tests in test/protocol/codec.test.ts check.
 */
export type CompiledEncoder = (pdu: Record<string, unknown>, maxPduLength: number) => Buffer | undefined;

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

/** Compiled encoder per command name (undefined without code generation). */
export const COMPILED_ENCODERS = new Map<string, CompiledEncoder | undefined>(
  (Object.keys(LAYOUTS) as CommandName[]).map((command) => [
    command,
    compile<CompiledEncoder>(encoderSource(command), ENCODER_HELPERS),
  ]),
);

// ---------------------------------------------------------------- decoders

/**
 * Reads the mandatory fields and TLVs of one command, or returns undefined when the body is not
 * well formed (then decodePdu falls back to decodePduByLayout, which says why or reads leniently).
 */
export type CompiledDecoder = (buf: Buffer, end: number, status: number, seq: number) => Pdu | undefined;

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

export interface DecoderEntry {
  /** Responses with a nonzero status are read leniently by decodePduByLayout (reference §1.4). */
  response: boolean;
  compiled: CompiledDecoder | undefined;
}

/** Compiled decoder per command_id (compiled is undefined without code generation). */
export const COMPILED_DECODERS = new Map<number, DecoderEntry>(
  (Object.keys(LAYOUTS) as CommandName[]).map((command) => [
    CommandId[command],
    { response: isResponseId(CommandId[command]), compiled: compileDecoder(command) },
  ]),
);
