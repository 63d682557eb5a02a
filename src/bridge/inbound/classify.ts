/**
 * What an inbound deliver_sm or data_sm is: a delivery receipt (for the outbound correlation) or a
 * mobile-originated message. A receipt is one by its esm_class (0x04 delivery receipt, 0x20
 * intermediate notification) or by its receipt TLVs (receipted_message_id with message_state), which
 * some SMSCs send with esm_class 0. A text that merely looks like a receipt ("id:123 stat:DELIVRD")
 * with esm_class 0 and no TLVs is MO: a user may type that.
 */
import { EsmClass, TlvTag } from '../../protocol/constants.js';
import type { Pdu } from '../../protocol/pdu.js';
import { parseReceipt, type Receipt } from '../../protocol/receipt.js';
import { findTlv } from '../../protocol/tlv.js';
import type { MoPdu } from '../mo-reassembly.js';

export type InboundKind =
  | { kind: 'receipt'; receipt: Receipt }
  /** Flagged as a receipt but naming no message id: nothing can be correlated with it. */
  | { kind: 'unreadable_receipt' }
  | { kind: 'mo'; mo: MoPdu }
  /** Not a deliver_sm or data_sm. */
  | { kind: 'other' };

const RECEIPT_TYPES: ReadonlySet<number> = new Set([
  EsmClass.TYPE_DELIVERY_RECEIPT,
  EsmClass.TYPE_INTERMEDIATE_NOTIFICATION,
]);

export function classifyInbound(pdu: Pdu): InboundKind {
  if (pdu.command !== 'deliver_sm' && pdu.command !== 'data_sm') return { kind: 'other' };
  const shortMessage = pdu.command === 'deliver_sm' ? pdu.short_message : Buffer.alloc(0);
  const flagged = RECEIPT_TYPES.has(pdu.esm_class & EsmClass.TYPE_MASK);
  const byTlv =
    findTlv(pdu.tlvs, TlvTag.receipted_message_id) !== undefined &&
    findTlv(pdu.tlvs, TlvTag.message_state) !== undefined;
  if (flagged || byTlv) {
    const receipt = parseReceipt({
      short_message: shortMessage,
      esm_class: pdu.esm_class,
      tlvs: pdu.tlvs ?? [],
    });
    if (receipt) return { kind: 'receipt', receipt };
    if (flagged) return { kind: 'unreadable_receipt' };
  }
  const mo: MoPdu = {
    source_addr: pdu.source_addr,
    destination_addr: pdu.destination_addr,
    esm_class: pdu.esm_class,
    data_coding: pdu.data_coding,
    short_message: shortMessage,
  };
  if (pdu.tlvs) mo.tlvs = pdu.tlvs;
  return { kind: 'mo', mo };
}
