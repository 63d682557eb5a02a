/**
 * The typed PDU: a discriminated union on `command`, fields under the spec's names.
 * Mandatory fields come from LAYOUTS; counts and lengths (sm_length, number_of_dests,
 * no_unsuccess) are derived from the arrays and buffers they count.
 */
import type { CommandName } from './constants.js';
import { type FieldSpec, type FieldsOf, LAYOUTS, type Layouts } from './layouts.js';
import type { Tlv } from './tlv.js';

export interface PduHeaderFields<K extends CommandName = CommandName> {
  command: K;
  command_status: number;
  sequence_number: number;
  /** Optional parameters in wire order. Decoded PDUs always have the array (maybe empty). */
  tlvs?: Tlv[];
}

export type PduOf<K extends CommandName> = PduHeaderFields<K> & FieldsOf<Layouts[K]>;
export type Pdu = { [K in CommandName]: PduOf<K> }[CommandName];

export type PduFields<K extends CommandName> = FieldsOf<Layouts[K]>;

export type PduInit<K extends CommandName> = Partial<FieldsOf<Layouts[K]>> & {
  command_status?: number;
  sequence_number?: number;
  tlvs?: Tlv[];
};

function defaultFor(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      return 0;
    case 'cstring':
    case 'time':
      return '';
    case 'sm':
      return Buffer.alloc(0);
    case 'dests':
    case 'unsuccess':
      return [];
  }
}

/** Builds a PDU with every field not given set to its empty value (0, '', no bytes, no entries). */
export function createPdu<K extends CommandName>(command: K, init: PduInit<K> = {} as PduInit<K>): PduOf<K> {
  const pdu: Record<string, unknown> = {
    command,
    command_status: init.command_status ?? 0,
    sequence_number: init.sequence_number ?? 0,
  };
  const given = init as Record<string, unknown>;
  for (const spec of LAYOUTS[command] as readonly FieldSpec[]) {
    pdu[spec.name] = given[spec.name] ?? defaultFor(spec);
  }
  if (init.tlvs) pdu.tlvs = init.tlvs;
  return pdu as PduOf<K>;
}
