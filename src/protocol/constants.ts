/**
 * Protocol constants from SMPP v3.4 and v5.0 (reference §2, §7.2, §8).
 * `as const` objects rather than TS enums, so values stay plain numbers.
 */

export const HEADER_LENGTH = 16;
/** Default upper bound on command_length: 64 KiB of message_payload plus the header (reference §1.2). */
export const DEFAULT_MAX_PDU_LENGTH = 65_536 + HEADER_LENGTH;
export const MAX_SEQUENCE_NUMBER = 0x7fffffff;
export const RESPONSE_BIT = 0x80000000;

export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
  broadcast_sm: 0x00000111,
  broadcast_sm_resp: 0x80000111,
  query_broadcast_sm: 0x00000112,
  query_broadcast_sm_resp: 0x80000112,
  cancel_broadcast_sm: 0x00000113,
  cancel_broadcast_sm_resp: 0x80000113,
} as const;
export type CommandName = keyof typeof CommandId;

const namesById = new Map<number, CommandName>(
  (Object.entries(CommandId) as [CommandName, number][]).map(([name, id]) => [id, name]),
);

/** The command name for an id, or undefined for an id this codec does not know. */
export function commandName(id: number): CommandName | undefined {
  return namesById.get(id >>> 0);
}

export function isResponseId(id: number): boolean {
  return (id & RESPONSE_BIT) !== 0;
}

/** Requests that have no response PDU. */
export const NO_RESPONSE: ReadonlySet<CommandName> = new Set([
  'outbind',
  'alert_notification',
  'generic_nack',
]);

/** The response name for a request name (undefined for outbind, alert_notification, generic_nack). */
export function responseNameOf(name: CommandName): CommandName | undefined {
  if (NO_RESPONSE.has(name) || name.endsWith('_resp')) return undefined;
  return `${name}_resp` as CommandName;
}

/** TLV tags (reference §7.2). Names follow 3.4 where 3.4 and 5.0 differ. */
export const TlvTag = {
  dest_addr_subunit: 0x0005,
  dest_network_type: 0x0006,
  dest_bearer_type: 0x0007,
  dest_telematics_id: 0x0008,
  source_addr_subunit: 0x000d,
  source_network_type: 0x000e,
  source_bearer_type: 0x000f,
  source_telematics_id: 0x0010,
  qos_time_to_live: 0x0017,
  payload_type: 0x0019,
  additional_status_info_text: 0x001d,
  receipted_message_id: 0x001e,
  ms_msg_wait_facilities: 0x0030,
  privacy_indicator: 0x0201,
  source_subaddress: 0x0202,
  dest_subaddress: 0x0203,
  user_message_reference: 0x0204,
  user_response_code: 0x0205,
  source_port: 0x020a,
  destination_port: 0x020b,
  sar_msg_ref_num: 0x020c,
  language_indicator: 0x020d,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  sc_interface_version: 0x0210,
  callback_num_pres_ind: 0x0302,
  callback_num_atag: 0x0303,
  number_of_messages: 0x0304,
  callback_num: 0x0381,
  dpf_result: 0x0420,
  set_dpf: 0x0421,
  ms_availability_status: 0x0422,
  network_error_code: 0x0423,
  message_payload: 0x0424,
  delivery_failure_reason: 0x0425,
  more_messages_to_send: 0x0426,
  message_state: 0x0427,
  congestion_state: 0x0428,
  ussd_service_op: 0x0501,
  broadcast_channel_indicator: 0x0600,
  broadcast_content_type: 0x0601,
  broadcast_content_type_info: 0x0602,
  broadcast_message_class: 0x0603,
  broadcast_rep_num: 0x0604,
  broadcast_frequency_interval: 0x0605,
  broadcast_area_identifier: 0x0606,
  broadcast_error_status: 0x0607,
  broadcast_area_success: 0x0608,
  broadcast_end_time: 0x0609,
  broadcast_service_group: 0x060a,
  billing_identification: 0x060b,
  source_network_id: 0x060d,
  dest_network_id: 0x060e,
  source_node_id: 0x060f,
  dest_node_id: 0x0610,
  dest_addr_np_resolution: 0x0611,
  dest_addr_np_information: 0x0612,
  dest_addr_np_country: 0x0613,
  display_time: 0x1201,
  sms_signal: 0x1203,
  ms_validity: 0x1204,
  alert_on_message_delivery: 0x130c,
  its_reply_type: 0x1380,
  its_session_info: 0x1383,
} as const;
export type TlvName = keyof typeof TlvTag;

export const InterfaceVersion = { v33: 0x33, v34: 0x34, v50: 0x50 } as const;

export const Ton = {
  unknown: 0,
  international: 1,
  national: 2,
  network_specific: 3,
  subscriber_number: 4,
  alphanumeric: 5,
  abbreviated: 6,
} as const;

export const Npi = {
  unknown: 0,
  isdn: 1,
  data: 3,
  telex: 4,
  land_mobile: 6,
  national: 8,
  private: 9,
  ermes: 10,
  internet: 14,
  wap_client_id: 18,
} as const;

/** esm_class masks and values (reference §8.2). */
export const EsmClass = {
  MODE_MASK: 0x03,
  TYPE_MASK: 0x3c,
  TYPE_DEFAULT: 0x00,
  TYPE_DELIVERY_RECEIPT: 0x04,
  TYPE_SME_DELIVERY_ACK: 0x08,
  TYPE_SME_MANUAL_ACK: 0x10,
  TYPE_INTERMEDIATE_NOTIFICATION: 0x20,
  UDHI: 0x40,
  REPLY_PATH: 0x80,
} as const;

/** registered_delivery (reference §8.3). */
export const RegisteredDelivery = {
  RECEIPT_MASK: 0x03,
  NONE: 0x00,
  FINAL: 0x01,
  FAILURE: 0x02,
  SUCCESS: 0x03,
  INTERMEDIATE: 0x10,
} as const;

/** data_coding values this project encodes or decodes text for (reference §8.6). */
export const DataCoding = {
  SMSC_DEFAULT: 0x00,
  IA5: 0x01,
  BINARY: 0x02,
  LATIN1: 0x03,
  BINARY_2: 0x04,
  UCS2: 0x08,
} as const;

/** message_state values (reference §10.3). */
export const MessageState = {
  SCHEDULED: 0,
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
  SKIPPED: 9,
} as const;
export type MessageStateName = keyof typeof MessageState;
