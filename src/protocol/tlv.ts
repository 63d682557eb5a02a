/**
 * Optional parameters (TLVs), reference §7. The table gives each known tag a value type;
 * decoding goes by the received Length, never by the table's size (§7.1, §15 #1–#3). A value
 * whose length does not fit its type, and every unknown tag, is kept as raw bytes and
 * re-encoded byte for byte.
 */
import { type TlvName, TlvTag } from './constants.js';

export type TlvType = 'int1' | 'int2' | 'int4' | 'cstring' | 'octets';

/** One TLV. `value` is a number or string for known tags whose bytes fit the type, else raw bytes. */
export interface Tlv {
  tag: number;
  value: number | string | Buffer;
}

const TYPES: Record<TlvName, TlvType> = {
  dest_addr_subunit: 'int1',
  dest_network_type: 'int1',
  dest_bearer_type: 'int1',
  dest_telematics_id: 'int2',
  source_addr_subunit: 'int1',
  source_network_type: 'int1',
  source_bearer_type: 'int1',
  source_telematics_id: 'int1',
  qos_time_to_live: 'int4',
  payload_type: 'int1',
  additional_status_info_text: 'cstring',
  receipted_message_id: 'cstring',
  ms_msg_wait_facilities: 'int1',
  privacy_indicator: 'int1',
  source_subaddress: 'octets',
  dest_subaddress: 'octets',
  user_message_reference: 'int2',
  user_response_code: 'int1',
  source_port: 'int2',
  destination_port: 'int2',
  sar_msg_ref_num: 'int2',
  language_indicator: 'int1',
  sar_total_segments: 'int1',
  sar_segment_seqnum: 'int1',
  sc_interface_version: 'int1',
  callback_num_pres_ind: 'int1',
  callback_num_atag: 'octets',
  number_of_messages: 'int1',
  callback_num: 'octets',
  dpf_result: 'int1',
  set_dpf: 'int1',
  ms_availability_status: 'int1',
  network_error_code: 'octets',
  message_payload: 'octets',
  delivery_failure_reason: 'int1',
  more_messages_to_send: 'int1',
  message_state: 'int1',
  congestion_state: 'int1',
  ussd_service_op: 'int1',
  broadcast_channel_indicator: 'int1',
  broadcast_content_type: 'octets',
  broadcast_content_type_info: 'octets',
  broadcast_message_class: 'int1',
  broadcast_rep_num: 'int1',
  broadcast_frequency_interval: 'octets',
  broadcast_area_identifier: 'octets',
  broadcast_error_status: 'int4',
  broadcast_area_success: 'int1',
  broadcast_end_time: 'cstring',
  broadcast_service_group: 'octets',
  billing_identification: 'octets',
  source_network_id: 'cstring',
  dest_network_id: 'cstring',
  source_node_id: 'octets',
  dest_node_id: 'octets',
  dest_addr_np_resolution: 'int1',
  dest_addr_np_information: 'octets',
  dest_addr_np_country: 'octets',
  display_time: 'int1',
  sms_signal: 'int2',
  ms_validity: 'int1',
  alert_on_message_delivery: 'octets',
  its_reply_type: 'int1',
  its_session_info: 'int2',
};

/** Known tags only: tag → { name, type }. Indexed by tag for O(1) lookup on the hot path. */
export const TLV_TABLE: ReadonlyMap<number, { name: TlvName; type: TlvType }> = new Map(
  (Object.keys(TYPES) as TlvName[]).map((name) => [TlvTag[name], { name, type: TYPES[name] }]),
);

/** Reads a TLV value from its bytes (already bounded by the TLV length). */
export function decodeTlvValue(
  tag: number,
  buf: Buffer,
  start: number,
  end: number,
): number | string | Buffer {
  const type = TLV_TABLE.get(tag)?.type;
  const len = end - start;
  switch (type) {
    case 'int1':
      if (len === 1) return buf[start]!;
      break;
    case 'int2':
      if (len === 2) return buf.readUInt16BE(start);
      break;
    case 'int4':
      if (len === 4) return buf.readUInt32BE(start);
      break;
    case 'cstring': {
      // Typed only when it is exactly one NUL-terminated Latin-1 string; otherwise keep the bytes.
      if (len >= 1 && buf[end - 1] === 0 && buf.indexOf(0, start) === end - 1) {
        return buf.toString('latin1', start, end - 1);
      }
      break;
    }
    default:
      break;
  }
  // Copy so a decoded PDU never pins the (possibly large) socket buffer it came from.
  const out = Buffer.allocUnsafe(len);
  buf.copy(out, 0, start, end);
  return out;
}

/** First value of a tag, or undefined. */
export function findTlv(tlvs: readonly Tlv[] | undefined, tag: number): Tlv['value'] | undefined {
  if (!tlvs) return undefined;
  for (const t of tlvs) if (t.tag === tag) return t.value;
  return undefined;
}

/** First value of a tag as a number (integer TLVs, or 1 to 4 raw bytes read big-endian), or undefined. */
export function tlvNumber(tlvs: readonly Tlv[] | undefined, tag: number): number | undefined {
  const v = findTlv(tlvs, tag);
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v) && v.length >= 1 && v.length <= 4) return v.readUIntBE(0, v.length);
  return undefined;
}

/** First value of a tag as bytes (octet TLVs), or undefined. */
export function tlvBytes(tlvs: readonly Tlv[] | undefined, tag: number): Buffer | undefined {
  const v = findTlv(tlvs, tag);
  return Buffer.isBuffer(v) ? v : undefined;
}
