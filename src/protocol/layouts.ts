/**
 * Mandatory-field layouts of every PDU, as data (reference §4). Maximum lengths of C-Octet
 * Strings include the NUL, as the spec prints them. `time` fields are C-Octet Strings of size
 * 1 or 17 (reference §8.5). `sm` is sm_length + short_message; `dests` and `unsuccess` are the
 * submit_multi lists. Counts and lengths (sm_length, number_of_dests, no_unsuccess) are derived
 * on encode and are not fields of the typed PDU.
 */
import type { CommandName } from './constants.js';

export type FieldSpec =
  | { readonly name: string; readonly kind: 'u8' | 'u16' | 'u32' }
  | { readonly name: string; readonly kind: 'cstring'; readonly max: number }
  | { readonly name: string; readonly kind: 'time' }
  | { readonly name: 'short_message'; readonly kind: 'sm' }
  | { readonly name: 'dest_address'; readonly kind: 'dests' }
  | { readonly name: 'unsuccess_sme'; readonly kind: 'unsuccess' };

const u8 = <N extends string>(name: N) => ({ name, kind: 'u8' }) as const;
const cstr = <N extends string, M extends number>(name: N, max: M) =>
  ({ name, kind: 'cstring', max }) as const;
const time = <N extends string>(name: N) => ({ name, kind: 'time' }) as const;
const sm = { name: 'short_message', kind: 'sm' } as const;

const bind = [
  cstr('system_id', 16),
  cstr('password', 9),
  cstr('system_type', 13),
  u8('interface_version'),
  u8('addr_ton'),
  u8('addr_npi'),
  cstr('address_range', 41),
] as const;

const bindResp = [cstr('system_id', 16)] as const;

const sms = [
  cstr('service_type', 6),
  u8('source_addr_ton'),
  u8('source_addr_npi'),
  cstr('source_addr', 21),
  u8('dest_addr_ton'),
  u8('dest_addr_npi'),
  cstr('destination_addr', 21),
  u8('esm_class'),
  u8('protocol_id'),
  u8('priority_flag'),
  time('schedule_delivery_time'),
  time('validity_period'),
  u8('registered_delivery'),
  u8('replace_if_present_flag'),
  u8('data_coding'),
  u8('sm_default_msg_id'),
  sm,
] as const;

const messageIdResp = [cstr('message_id', 65)] as const;
const none = [] as const;

export const LAYOUTS = {
  generic_nack: none,
  bind_receiver: bind,
  bind_receiver_resp: bindResp,
  bind_transmitter: bind,
  bind_transmitter_resp: bindResp,
  bind_transceiver: bind,
  bind_transceiver_resp: bindResp,
  outbind: [cstr('system_id', 16), cstr('password', 9)],
  unbind: none,
  unbind_resp: none,
  enquire_link: none,
  enquire_link_resp: none,
  submit_sm: sms,
  submit_sm_resp: messageIdResp,
  deliver_sm: sms,
  // 3.4 says max 1 (always empty), 5.0 allows 65; real peers send ids (reference §4.8).
  deliver_sm_resp: messageIdResp,
  data_sm: [
    cstr('service_type', 6),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 65),
    u8('dest_addr_ton'),
    u8('dest_addr_npi'),
    cstr('destination_addr', 65),
    u8('esm_class'),
    u8('registered_delivery'),
    u8('data_coding'),
  ],
  data_sm_resp: messageIdResp,
  query_sm: [cstr('message_id', 65), u8('source_addr_ton'), u8('source_addr_npi'), cstr('source_addr', 21)],
  query_sm_resp: [cstr('message_id', 65), time('final_date'), u8('message_state'), u8('error_code')],
  cancel_sm: [
    cstr('service_type', 6),
    cstr('message_id', 65),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 21),
    u8('dest_addr_ton'),
    u8('dest_addr_npi'),
    cstr('destination_addr', 21),
  ],
  cancel_sm_resp: none,
  replace_sm: [
    cstr('message_id', 65),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 21),
    time('schedule_delivery_time'),
    time('validity_period'),
    u8('registered_delivery'),
    u8('sm_default_msg_id'),
    sm,
  ],
  replace_sm_resp: none,
  submit_multi: [
    cstr('service_type', 6),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 21),
    { name: 'dest_address', kind: 'dests' },
    u8('esm_class'),
    u8('protocol_id'),
    u8('priority_flag'),
    time('schedule_delivery_time'),
    time('validity_period'),
    u8('registered_delivery'),
    u8('replace_if_present_flag'),
    u8('data_coding'),
    u8('sm_default_msg_id'),
    sm,
  ],
  submit_multi_resp: [cstr('message_id', 65), { name: 'unsuccess_sme', kind: 'unsuccess' }],
  alert_notification: [
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 65),
    u8('esme_addr_ton'),
    u8('esme_addr_npi'),
    cstr('esme_addr', 65),
  ],
  broadcast_sm: [
    cstr('service_type', 6),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 21),
    cstr('message_id', 65),
    u8('priority_flag'),
    time('schedule_delivery_time'),
    time('validity_period'),
    u8('replace_if_present_flag'),
    u8('data_coding'),
    u8('sm_default_msg_id'),
  ],
  broadcast_sm_resp: messageIdResp,
  query_broadcast_sm: [
    cstr('message_id', 65),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 21),
  ],
  query_broadcast_sm_resp: messageIdResp,
  cancel_broadcast_sm: [
    cstr('service_type', 6),
    cstr('message_id', 65),
    u8('source_addr_ton'),
    u8('source_addr_npi'),
    cstr('source_addr', 21),
  ],
  cancel_broadcast_sm_resp: none,
} as const satisfies Record<CommandName, readonly FieldSpec[]>;

/** Commands whose body may carry TLVs after the mandatory fields. Others are header + fields only. */
export const TAKES_TLVS: ReadonlySet<CommandName> = new Set<CommandName>([
  'bind_receiver_resp',
  'bind_transmitter_resp',
  'bind_transceiver_resp',
  'submit_sm',
  'submit_sm_resp',
  'deliver_sm',
  'deliver_sm_resp',
  'data_sm',
  'data_sm_resp',
  'query_sm_resp',
  'replace_sm',
  'submit_multi',
  'submit_multi_resp',
  'alert_notification',
  'broadcast_sm',
  'broadcast_sm_resp',
  'query_broadcast_sm',
  'query_broadcast_sm_resp',
  'cancel_broadcast_sm',
  'cancel_sm',
  'query_sm',
]);

/** A submit_multi destination: an SME address (dest_flag 1) or a distribution list (dest_flag 2). */
export type DestAddress =
  | { dest_flag: 1; dest_addr_ton: number; dest_addr_npi: number; destination_addr: string }
  | { dest_flag: 2; dl_name: string };

/** A submit_multi_resp entry for a destination the SMSC did not accept. */
export interface UnsuccessSme {
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
  error_status_code: number;
}

type FieldValue<F> = F extends { kind: 'u8' | 'u16' | 'u32' }
  ? number
  : F extends { kind: 'cstring' | 'time' }
    ? string
    : F extends { kind: 'sm' }
      ? Buffer
      : F extends { kind: 'dests' }
        ? DestAddress[]
        : F extends { kind: 'unsuccess' }
          ? UnsuccessSme[]
          : never;

export type FieldsOf<S extends readonly FieldSpec[]> = {
  -readonly [F in S[number] as F['name']]: FieldValue<F>;
};

export type Layouts = typeof LAYOUTS;

/**
 * Visible characters a bind_* C-Octet String field holds: the spec's octet count includes the NUL
 * (reference §1.1, §4.1), so system_id 15, password 8, system_type 12, address_range 40.
 */
export function bindFieldMaxChars(name: string): number {
  for (const field of LAYOUTS.bind_transceiver) {
    if (field.name === name && field.kind === 'cstring') return field.max - 1;
  }
  throw new TypeError(`bind_transceiver has no C-Octet String field ${name}`);
}
