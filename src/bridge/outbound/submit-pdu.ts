/**
 * The submit_sm for one stored part: addresses (plan-message.ts parseSource/parseDestination),
 * data_coding from the message's encoding, UDHI when the part carries a UDH (every part of a
 * multi-part message, or a binary message with the caller's UDH), registered_delivery from the
 * receipt policy on EVERY part, and the validity as a relative time (counted from the
 * submission, so no clock skew with the SMSC).
 */
import { DataCoding, EsmClass } from '../../protocol/constants.js';
import type { PduInit } from '../../protocol/pdu.js';
import { formatRelativeTime, relativeFromMs } from '../../protocol/time.js';
import type { MessageRecord, PartRecord } from '../../store/store.js';
import { registeredDeliveryFor } from '../message-status.js';
import { parseDestination, parseSource } from '../plan-message.js';

const DATA_CODING: Readonly<Record<string, number>> = {
  gsm7: DataCoding.SMSC_DEFAULT,
  latin1: DataCoding.LATIN1,
  ucs2: DataCoding.UCS2,
  binary: DataCoding.BINARY_2,
};

/** data_coding for a stored encoding name (unknown names: the SMSC default). */
export function dataCodingOf(encoding: string): number {
  return DATA_CODING[encoding] ?? DataCoding.SMSC_DEFAULT;
}

/** The validity_period for a validity in ms: relative, at most 99 days 23:59:59. */
export function validityPeriodOf(validityMs: number | null): string {
  if (validityMs === null || validityMs <= 0) return '';
  return formatRelativeTime(relativeFromMs(Math.min(validityMs, (99 * 86_400 + 86_399) * 1000)));
}

/** The submit_sm init for a part of `message` (sequence_number is the session's). */
export function submitInit(message: MessageRecord, part: PartRecord): PduInit<'submit_sm'> {
  const src = parseSource(message.from) ?? { addr: message.from, ton: 0, npi: 0 };
  const dest = parseDestination(message.to) ?? { addr: message.to, ton: 0, npi: 0 };
  const udhi = message.partsCount > 1 || message.udh !== null;
  return {
    service_type: '',
    source_addr_ton: src.ton,
    source_addr_npi: src.npi,
    source_addr: src.addr,
    dest_addr_ton: dest.ton,
    dest_addr_npi: dest.npi,
    destination_addr: dest.addr,
    esm_class: udhi ? EsmClass.UDHI : 0,
    registered_delivery: registeredDeliveryFor(message.receiptPolicy),
    validity_period: validityPeriodOf(message.validityMs),
    data_coding: dataCodingOf(message.encoding),
    short_message: part.payload,
  } as PduInit<'submit_sm'>;
}
