/**
 * Ids of inbound messages: UUIDv7 (RFC 9562), time-ordered and, within this process, strictly
 * increasing (a 12-bit counter in rand_a for ids of the same millisecond; past 4096 of them the
 * timestamp is borrowed from the next millisecond). The handler makes the id inside the transaction
 * that stores the message, so id order is commit order: GET /inbound's cursor (receivedAt, id) never
 * skips a message committed after a page was read.
 */
import { randomUUID } from 'node:crypto';

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
    // rand_b (and the variant bits) from a v4 UUID: randomUUID draws from a cached entropy pool,
    // where randomBytes(16) went to the OS for every id (~40 µs each under load).
    const tail = randomUUID().slice(19); // "vxxx-xxxxxxxxxxxx": variant 10xx, 62 random bits
    const time = ms.toString(16).padStart(12, '0');
    const randA = (0x7000 | counter).toString(16);
    return `${time.slice(0, 8)}-${time.slice(8)}-${randA}-${tail}`;
  };
}
