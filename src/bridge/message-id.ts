/**
 * One canonical form for SMSC message ids, used on both sides of the match: the id a submit_sm_resp
 * gave, and the id a receipt names (receipted_message_id, or `id:` in its text). The store indexes by
 * the canonical form, so a receipt finds its part with one lookup, whichever arrived first.
 *
 * Jasmin #586, #643, #1129, #1034 (message-bridge.md): SMSCs answer submit_sm with a hex id and report
 * it in decimal (or the reverse), pad it with leading zeros on one side only, change its case, or
 * leave spaces and NULs around it. The rules (reference §10.4 Rec.):
 *
 *   every format   strip NULs, trim whitespace, lower-case, strip leading zeros (an id of only zeros
 *                  stays "0")
 *   string         nothing more: the id is opaque
 *   hexSubmitDecReceipt   the submit id is hex, the receipt id decimal: both become the decimal number
 *   decSubmitHexReceipt   the submit id is decimal, the receipt id hex: both become the decimal number
 *
 * An id that is not a number in the base its side expects (or longer than 64 characters, the size of
 * receipted_message_id) keeps its string form, so a misconfigured format degrades to exact matching
 * instead of failing. src/protocol/receipt.ts `messageIdsMatch` tries every base for a pair of ids; this
 * gives ONE key per id, for an index, and needs the route's format to know which base each side is in.
 */

import { cleanMessageId } from '../protocol/receipt.js';

/** How a route's SMSC writes message ids on each side. */
export type IdFormat = 'string' | 'hexSubmitDecReceipt' | 'decSubmitHexReceipt';

export const ID_FORMATS: readonly IdFormat[] = ['string', 'hexSubmitDecReceipt', 'decSubmitHexReceipt'];

/** Which side the id comes from: the submit_sm_resp, or a delivery receipt. */
export type IdSide = 'submit' | 'receipt';

const MAX_NUMERIC_LENGTH = 64;
const HEX = /^[0-9a-f]+$/;

export { cleanMessageId };

function base(side: IdSide, format: IdFormat): 10 | 16 | undefined {
  switch (format) {
    case 'string':
      return undefined;
    case 'hexSubmitDecReceipt':
      return side === 'submit' ? 16 : 10;
    case 'decSubmitHexReceipt':
      return side === 'submit' ? 10 : 16;
  }
}

/** The canonical form of a message id from one side, under a route's format. Never throws. */
export function canonicalMessageId(id: string, side: IdSide, format: IdFormat = 'string'): string {
  const clean = cleanMessageId(id);
  const radix = base(side, format);
  if (radix === undefined || clean.length > MAX_NUMERIC_LENGTH) return clean;
  // Decimal is the canonical base: a decimal id is already canonical once cleaned (or opaque).
  if (radix === 16 && HEX.test(clean)) return BigInt(`0x${clean}`).toString(10);
  return clean;
}

/** True when a submit id and a receipt id name the same message under the route's format. */
export function sameMessage(submitId: string, receiptId: string, format: IdFormat = 'string'): boolean {
  return canonicalMessageId(submitId, 'submit', format) === canonicalMessageId(receiptId, 'receipt', format);
}
