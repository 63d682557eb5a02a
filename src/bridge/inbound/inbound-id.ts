/**
 * Ids of inbound messages: UUIDv7 (RFC 9562), time-ordered and, within this process, strictly
 * increasing (a 12-bit counter in rand_a for ids of the same millisecond; past 4096 of them the
 * timestamp is borrowed from the next millisecond). The handler makes the id inside the transaction
 * that stores the message, so id order is commit order: GET /inbound's cursor (receivedAt, id) never
 * skips a message committed after a page was read.
 */
import { randomBytes } from 'node:crypto';

export function createInboundIdGenerator(now: () => number = Date.now): () => string {
  let lastMs = 0;
  let counter = 0;
  return () => {
    let ms = Math.floor(now());
    if (ms <= lastMs) {
      counter++;
      ms = lastMs;
      if (counter > 0xfff) {
        ms = lastMs + 1;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    lastMs = ms;
    const b = randomBytes(16);
    b.writeUIntBE(ms, 0, 6);
    b[6] = 0x70 | (counter >> 8);
    b[7] = counter & 0xff;
    b[8] = 0x80 | (b[8]! & 0x3f);
    const hex = b.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}
