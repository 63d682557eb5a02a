/** Schemas of a bind's PDU trace: GET /binds/:id/trace (JSON), its SSE stream, and trace.pcap. */
import { Type } from 'typebox';
import { StringEnum } from './common.js';

export const TRACE_LIMIT_MAX = 100_000;

export const TraceQuerySchema = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: TRACE_LIMIT_MAX,
        description: 'At most this many PDUs, the newest (default: every PDU held).',
      }),
    ),
    command: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9_]+(,[a-z0-9_]+)*$',
        maxLength: 1024,
        description: 'Only these commands, comma-separated, e.g. submit_sm,submit_sm_resp.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const TraceStreamQuerySchema = Type.Object(
  { command: TraceQuerySchema.properties.command },
  { additionalProperties: false },
);

export const EXAMPLE_TRACE_ENTRY = {
  timeUs: 1_796_605_200_123_456,
  at: '2026-12-07T03:00:00.123Z',
  direction: 'out',
  command: 'enquire_link',
  commandId: 21,
  status: 0,
  statusName: 'ESME_ROK',
  sequence: 42,
  length: 16,
  truncated: false,
  fields: {},
};

const EXAMPLE_TRACE_RESP = {
  ...EXAMPLE_TRACE_ENTRY,
  timeUs: 1_796_605_200_124_101,
  at: '2026-12-07T03:00:00.124Z',
  direction: 'in',
  command: 'enquire_link_resp',
  commandId: 2147483669,
};

export const EXAMPLE_TRACE = {
  bindId: 'main',
  size: 200,
  maxBytes: 65536,
  held: 2,
  recorded: 2,
  pdus: [EXAMPLE_TRACE_ENTRY, EXAMPLE_TRACE_RESP],
};

export const TraceEntrySchema = Type.Object(
  {
    timeUs: Type.Integer({ description: 'When it was read or written: µs since the epoch.' }),
    at: Type.String({ format: 'date-time', description: 'The same time, ISO 8601 (ms).' }),
    direction: StringEnum(['in', 'out'] as const, { description: 'in: from the SMSC; out: to it.' }),
    command: Type.String({ description: "The command's name, or 0x… for an id the codec does not know." }),
    commandId: Type.Integer({ minimum: 0 }),
    status: Type.Integer({ minimum: 0, description: 'command_status.' }),
    statusName: Type.String({ description: 'Its name, e.g. ESME_ROK.' }),
    sequence: Type.Integer({ minimum: 0, description: 'sequence_number.' }),
    length: Type.Integer({ minimum: 16, description: 'command_length: the size on the wire.' }),
    truncated: Type.Boolean({
      description: 'Only the first traceMaxBytes/4 bytes were kept: fields is null.',
    }),
    fields: Type.Unsafe<Record<string, unknown> | null>({
      type: ['object', 'null'],
      additionalProperties: true,
      description:
        "The decoded fields under the spec's names (header fields left out); octets as hex; TLVs as { tag, name, value }; the bind password as '*' of its length. Null when cut or undecodable.",
    }),
    error: Type.Optional(Type.String({ description: 'Why the PDU did not decode.' })),
  },
  { $id: 'TraceEntry', title: 'TraceEntry', additionalProperties: false, examples: [EXAMPLE_TRACE_ENTRY] },
);

export const TraceSchema = Type.Object(
  {
    bindId: Type.String(),
    size: Type.Integer({ minimum: 0, description: 'PDUs the trace keeps (traceSize; 0: off).' }),
    maxBytes: Type.Integer({ minimum: 0, description: 'Bytes it may take (traceMaxBytes).' }),
    held: Type.Integer({ minimum: 0, description: 'PDUs held now.' }),
    recorded: Type.Integer({ minimum: 0, description: 'PDUs recorded since the bind was added.' }),
    pdus: Type.Array(Type.Unsafe<object>({ $ref: 'TraceEntry#' }), { description: 'Oldest first.' }),
  },
  {
    $id: 'Trace',
    title: 'Trace',
    additionalProperties: false,
    examples: [EXAMPLE_TRACE],
  },
);
